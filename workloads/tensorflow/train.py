#!/usr/bin/env python3
"""TensorFlow workload: Keras models trained with keras.optimizers.SGD in a tf.function step.

--impl matched rebuilds torchvision's ResNet v1.5 with Keras layers: explicit ZeroPadding2D
before 'valid' convolutions (Keras 'same' pads asymmetrically at stride 2: one pixel right and
bottom, none left and top, where PyTorch pads both sides), max pool after a zero pad (equal to
PyTorch's -inf padding because its input comes out of a ReLU, so it is >= 0), HWIO kernels
transposed from the shared OIHW weights, and a batch-norm layer with PyTorch's conventions
(running statistics updated with momentum 0.1, i.e. Keras momentum 0.9; epsilon 1e-5; unbiased
running variance, where keras.layers.BatchNormalization keeps the biased one).
--impl stock is keras.applications.ResNet50/101/152(weights=None, include_top=False,
input_shape=(H, W, 3), pooling="avg") plus a softmax Dense head and a cross-entropy on
probabilities, as the study built it (Keras' own ResNet v1: stride on the first 1x1 conv, conv
biases, epsilon 1.001e-5, Keras' initialisers, seeded with keras.utils.set_random_seed(--seed)).

Precision: TensorFlow's default allows TF32 on Ampere and later GPUs; --precision fp32 calls
tf.config.experimental.enable_tensor_float_32_execution(False), tf32 enables it, bf16 sets the
Keras policy mixed_bfloat16.  --compile turns on XLA (tf.function(jit_compile=True)).
"""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[0:0] = [_ROOT, os.path.join(_ROOT, "python")]

from workloads.common import cli  # noqa: E402  (standard library only)

FRAMEWORK = "tensorflow"
STOCK = {"resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152"}


def make_matched(tf, keras, model_name, num_classes, image_shape, stat_dtype):
    """Functional Keras model; returns (model, {torch conv name: layer}, {torch bn name: layer},
    fc layer)."""
    from workloads.common import resnet

    class TorchBatchNorm(keras.layers.Layer):
        """Batch norm with PyTorch's conventions (see the file's docstring)."""

        def build(self, input_shape):
            f = int(input_shape[-1])
            self.gamma = self.add_weight(shape=(f,), initializer="ones", dtype=stat_dtype,
                                         name="gamma")
            self.beta = self.add_weight(shape=(f,), initializer="zeros", dtype=stat_dtype,
                                        name="beta")
            self.moving_mean = self.add_weight(shape=(f,), initializer="zeros", dtype=stat_dtype,
                                               trainable=False, name="moving_mean")
            self.moving_var = self.add_weight(shape=(f,), initializer="ones", dtype=stat_dtype,
                                              trainable=False, name="moving_variance")

        def call(self, x, training=False):
            xf = tf.cast(x, stat_dtype)
            if training:
                mean = tf.reduce_mean(xf, axis=[0, 1, 2])
                var = tf.reduce_mean(tf.square(xf - mean), axis=[0, 1, 2])
                n = tf.cast(tf.reduce_prod(tf.shape(xf)[:3]), stat_dtype)
                m = resnet.BN_MOMENTUM
                self.moving_mean.assign(self.moving_mean.value * (1.0 - m) + m * mean)
                self.moving_var.assign(self.moving_var.value * (1.0 - m)
                                       + m * var * n / tf.maximum(n - 1.0, 1.0))
            else:
                mean, var = self.moving_mean.value, self.moving_var.value
            y = (xf - mean) * tf.math.rsqrt(var + resnet.BN_EPS) * self.gamma.value \
                + self.beta.value
            return tf.cast(y, self.compute_dtype)

    L = keras.layers
    convs, bns = {}, {}

    def conv(x, name, filters, k, stride, pad):
        if pad:
            x = L.ZeroPadding2D(pad, name=name.replace(".", "_") + "_pad")(x)
        layer = L.Conv2D(filters, k, strides=stride, padding="valid", use_bias=False,
                         name=name.replace(".", "_"))
        convs[name] = layer
        return layer(x)

    def bn(x, name):
        layer = TorchBatchNorm(name=name.replace(".", "_"))
        bns[name] = layer
        return layer(x)

    inp = keras.Input(shape=tuple(image_shape))
    x = L.ReLU()(bn(conv(inp, "conv1", 64, 7, 2, 3), "bn1"))
    x = L.ZeroPadding2D(1)(x)
    x = L.MaxPooling2D(3, strides=2, padding="valid")(x)
    for prefix, _in, width, out_ch, stride, down in resnet.blocks(model_name):
        idt = x
        y = L.ReLU()(bn(conv(x, prefix + ".conv1", width, 1, 1, 0), prefix + ".bn1"))
        y = L.ReLU()(bn(conv(y, prefix + ".conv2", width, 3, stride, 1), prefix + ".bn2"))
        y = bn(conv(y, prefix + ".conv3", out_ch, 1, 1, 0), prefix + ".bn3")
        if down:
            idt = bn(conv(x, prefix + ".downsample.0", out_ch, 1, stride, 0),
                     prefix + ".downsample.1")
        x = L.ReLU()(L.Add()([y, idt]))
    x = L.GlobalAveragePooling2D()(x)
    fc = L.Dense(num_classes, name="fc")
    out = L.Activation("linear", dtype=stat_dtype)(fc(x))
    return keras.Model(inp, out, name=model_name), convs, bns, fc


class TfBackend:
    name = FRAMEWORK

    def __init__(self, tf, keras):
        self.tf = tf
        self.keras = keras
        self.version = tf.__version__
        self.device_name = "cpu"

    def setup(self, args):
        tf, keras = self.tf, self.keras
        self.args = args
        gpus = tf.config.list_physical_devices("GPU")
        if args.device == "cpu" and gpus:
            tf.config.set_visible_devices([], "GPU")
            gpus = []
        if args.device == "cuda" and not gpus:
            cli.fail(FRAMEWORK, "--device cuda: TensorFlow sees no GPU")
        self.gpu = bool(gpus)
        self.device_name = "cpu"
        if self.gpu:
            details = tf.config.experimental.get_device_details(gpus[0])
            self.device_name = details.get("device_name", "GPU")
            for g in gpus:
                tf.config.experimental.set_memory_growth(g, True)
        tf.config.experimental.enable_tensor_float_32_execution(args.precision == "tf32")
        if args.precision == "bf16":
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        elif args.precision == "fp64":
            keras.config.set_floatx("float64")
        self.stat_dtype = "float64" if args.precision == "fp64" else "float32"
        self.scale = None if args.raw_pixels else 255.0
        self.outputs_are_probs = args.impl == "stock"
        keras.utils.set_random_seed(args.seed)
        self._last = None

    def build(self, num_classes, weights, image_shape):
        tf, keras = self.tf, self.keras
        self.hw = tuple(image_shape)
        if weights is None:
            base = getattr(keras.applications, STOCK[self.args.model])(
                include_top=False, weights=None, input_shape=self.hw, pooling="avg")
            inp = keras.Input(shape=self.hw)
            out = keras.layers.Dense(num_classes, activation="softmax", dtype=self.stat_dtype)(
                base(inp))
            self.model = keras.Model(inp, out)
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy()
        else:
            self.model, convs, bns, fc = make_matched(tf, keras, self.args.model, num_classes,
                                                      self.hw, self.stat_dtype)
            for name, layer in convs.items():
                layer.kernel.assign(weights[name + ".weight"].transpose(2, 3, 1, 0))
            for name, layer in bns.items():
                layer.gamma.assign(weights[name + ".weight"])
                layer.beta.assign(weights[name + ".bias"])
                layer.moving_mean.assign(weights[name + ".running_mean"])
                layer.moving_var.assign(weights[name + ".running_var"])
            fc.kernel.assign(weights["fc.weight"].T)
            fc.bias.assign(weights["fc.bias"])
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.opt = keras.optimizers.SGD(learning_rate=self.args.lr, momentum=self.args.momentum)
        self.opt.build(self.model.trainable_variables)
        jit = bool(self.args.compile)
        self._train = tf.function(self._train_fn, jit_compile=jit)
        self._train_dev = tf.function(self._train_dev_fn, jit_compile=jit)
        self._predict = tf.function(self._predict_fn, jit_compile=jit)

    def _prep(self, x_u8):
        x = self.tf.cast(x_u8, self.keras.config.floatx())
        return x / self.scale if self.scale is not None else x

    def _train_fn(self, x_u8, y):
        tf = self.tf
        with tf.GradientTape() as tape:
            out = self.model(self._prep(x_u8), training=True)
            loss = self.loss_fn(y, out)
        vars_ = self.model.trainable_variables
        grads = tape.gradient(loss, vars_)
        self.opt.apply_gradients(zip(grads, vars_))
        return loss

    def _train_dev_fn(self, idx):
        tf = self.tf
        return self._train_fn(tf.gather(self.dev_x, idx), tf.gather(self.dev_y, idx))

    def _predict_fn(self, x_u8):
        return self.model(self._prep(x_u8), training=False)

    def put_data(self, train_x, train_y):
        with self.tf.device("/GPU:0" if self.gpu else "/CPU:0"):
            self.dev_x = self.tf.constant(train_x)
            self.dev_y = self.tf.constant(train_y)

    def warm_up(self, train_sizes, eval_sizes):
        tf = self.tf
        for n in train_sizes:
            if hasattr(self, "dev_x"):
                self._train_dev.get_concrete_function(tf.TensorSpec((n,), tf.int64))
            else:
                self._train.get_concrete_function(tf.TensorSpec((n,) + self.hw, tf.uint8),
                                                  tf.TensorSpec((n,), tf.int64))
        for n in eval_sizes:
            self._predict.get_concrete_function(tf.TensorSpec((n,) + self.hw, tf.uint8))

    def train_host(self, x_u8, y):
        self._last = self._train(x_u8, y)
        return self._last

    def train_device(self, idx):
        self._last = self._train_dev(idx)
        return self._last

    def predict(self, x_u8):
        self._last = self._predict(x_u8)
        return self._last

    def to_numpy(self, out):
        return out.numpy()

    def losses_mean(self, losses):
        return float(self.tf.reduce_mean(self.tf.cast(self.tf.stack(losses), "float64")).numpy())

    def sync(self):
        if not self.gpu:
            return  # CPU kernels run synchronously in eager mode and tf.function calls
        sync_devices = getattr(getattr(self.tf.test, "experimental", None), "sync_devices", None)
        if sync_devices is not None:
            sync_devices()
        elif self._last is not None:
            self._last.numpy()

    def extra_info(self):
        return {"keras_version": self.keras.__version__,
                "tf32": bool(self.tf.config.experimental.tensor_float_32_execution_enabled()),
                "keras_policy": self.keras.mixed_precision.global_policy().name}


def main(argv=None):
    args = cli.parse_args(FRAMEWORK, argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    import joulebench as jb
    jb.begin("startup")
    from workloads.common import driver

    def make_backend():
        import tensorflow as tf
        import keras
        return TfBackend(tf, keras)

    return driver.main(args, make_backend, FRAMEWORK)


if __name__ == "__main__":
    sys.exit(main())

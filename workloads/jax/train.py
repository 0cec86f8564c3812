#!/usr/bin/env python3
"""JAX workload: torchvision's ResNet v1.5 rebuilt in Flax linen, trained with optax.sgd.

Only --impl matched exists: JAX and Flax ship no ResNet of their own (`stock` exits 2).  The
rebuild follows torchvision exactly: explicit conv padding (3 for the 7x7 stem, 1 for 3x3 convs,
never 'SAME', which pads asymmetrically at stride 2), max pool padded with -inf, HWIO kernels
transposed from PyTorch's OIHW, and a batch norm with PyTorch's conventions: momentum 0.1 on the
running statistics, epsilon 1e-5, batch statistics with the biased variance for normalising and
the unbiased one (n / (n - 1)) for the running variance.  Flax's own nn.BatchNorm uses the biased
variance for the running average, hence the module here.

Precision: JAX's default on a GPU lets XLA use TF32 for float32 convolutions and matmuls
(precision DEFAULT); --precision fp32 sets jax_default_matmul_precision to 'highest' (true
float32), tf32 to 'tensorfloat32', bf16 computes convolutions and dense layers in bfloat16 with
float32 weights, batch-norm statistics and loss.  The train step and the eval forward pass are
compiled ahead of time (jit(...).lower(...).compile()) for each batch size during startup.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[0:0] = [_ROOT, os.path.join(_ROOT, "python")]

from workloads.common import cli  # noqa: E402  (standard library only)

FRAMEWORK = "jax"


def make_model(nn, jnp, lax, model_name, num_classes, dtype):
    """The Flax module; submodule names mirror torchvision's (layer1.0.conv1 -> layer1_0/conv1)."""
    from workloads.common import resnet

    sdt = jnp.promote_types(dtype, jnp.float32)  # batch-norm statistics: float32 at least

    class BatchNorm(nn.Module):
        """PyTorch-convention batch norm (see the file's docstring)."""
        features: int

        @nn.compact
        def __call__(self, x, train):
            f = self.features
            scale = self.param("scale", nn.initializers.ones, (f,), sdt)
            bias = self.param("bias", nn.initializers.zeros, (f,), sdt)
            ra_mean = self.variable("batch_stats", "mean", lambda: jnp.zeros((f,), sdt))
            ra_var = self.variable("batch_stats", "var", lambda: jnp.ones((f,), sdt))
            xf = x.astype(sdt)
            if train:
                mean = jnp.mean(xf, axis=(0, 1, 2))
                var = jnp.mean(jnp.square(xf - mean), axis=(0, 1, 2))
                n = x.shape[0] * x.shape[1] * x.shape[2]
                if not self.is_initializing():
                    m = resnet.BN_MOMENTUM
                    ra_mean.value = (1.0 - m) * ra_mean.value + m * mean
                    ra_var.value = (1.0 - m) * ra_var.value + m * var * (n / max(n - 1, 1))
            else:
                mean, var = ra_mean.value, ra_var.value
            y = (xf - mean) * lax.rsqrt(var + resnet.BN_EPS) * scale + bias
            return y.astype(dtype)

    def conv(name, features, k, stride, pad):
        return nn.Conv(features, (k, k), strides=(stride, stride), padding=[(pad, pad)] * 2,
                       use_bias=False, dtype=dtype, param_dtype=sdt, name=name)

    class Bottleneck(nn.Module):
        width: int
        out_ch: int
        stride: int
        down: bool

        @nn.compact
        def __call__(self, x, train):
            idt = x
            y = nn.relu(BatchNorm(self.width, name="bn1")(conv("conv1", self.width, 1, 1, 0)(x),
                                                          train))
            y = nn.relu(BatchNorm(self.width, name="bn2")(
                conv("conv2", self.width, 3, self.stride, 1)(y), train))
            y = BatchNorm(self.out_ch, name="bn3")(conv("conv3", self.out_ch, 1, 1, 0)(y), train)
            if self.down:
                idt = BatchNorm(self.out_ch, name="downsample_1")(
                    conv("downsample_0", self.out_ch, 1, self.stride, 0)(x), train)
            return nn.relu(y + idt)

    class ResNet(nn.Module):
        @nn.compact
        def __call__(self, x, train):
            x = x.astype(dtype)
            x = nn.relu(BatchNorm(64, name="bn1")(conv("conv1", 64, 7, 2, 3)(x), train))
            x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
            for prefix, _in, width, out_ch, stride, down in resnet.blocks(model_name):
                x = Bottleneck(width, out_ch, stride, down, name=prefix.replace(".", "_"))(x,
                                                                                           train)
            x = jnp.mean(x, axis=(1, 2))
            x = nn.Dense(num_classes, dtype=dtype, param_dtype=sdt, name="fc")(x)
            return x.astype(sdt)

    return ResNet()


def torch_to_flax(np, weights):
    """torchvision-named arrays -> Flax {'params': ..., 'batch_stats': ...} (numpy leaves)."""
    params, stats = {}, {}

    def put(tree, path, value):
        for p in path[:-1]:
            tree = tree.setdefault(p, {})
        tree[path[-1]] = value

    for name, a in weights.items():
        parts = name.split(".")
        leaf = parts[-1]
        mod = parts[:-1]
        if mod[0].startswith("layer"):
            mod = [mod[0] + "_" + mod[1]] + (["_".join(mod[2:])] if len(mod) > 2 else [])
        if leaf == "weight" and a.ndim == 4:
            put(params, mod + ["kernel"], np.ascontiguousarray(a.transpose(2, 3, 1, 0)))
        elif mod == ["fc"]:
            put(params, mod + ["kernel" if leaf == "weight" else "bias"],
                np.ascontiguousarray(a.T) if leaf == "weight" else a)
        elif leaf in ("weight", "bias"):
            put(params, mod + ["scale" if leaf == "weight" else "bias"], a)
        elif leaf == "running_mean":
            put(stats, mod + ["mean"], a)
        elif leaf == "running_var":
            put(stats, mod + ["var"], a)
        else:
            raise ValueError("unexpected weight name %r" % name)
    return {"params": params, "batch_stats": stats}


class JaxBackend:
    name = FRAMEWORK
    outputs_are_probs = False

    def __init__(self, jax):
        import flax
        import numpy as np
        import optax
        self.jax = jax
        self.np = np
        self.optax = optax
        self.flax = flax
        self.version = jax.__version__
        self.device_name = "cpu"

    def setup(self, args):
        jax = self.jax
        self.args = args
        try:
            devices = jax.devices()
        except RuntimeError as e:
            cli.fail(FRAMEWORK, "--device %s: %s" % (args.device, str(e).splitlines()[0]))
        self.dev = devices[0]
        if args.device == "cuda" and self.dev.platform != "gpu":
            cli.fail(FRAMEWORK, "--device cuda: JAX sees no GPU (platform %s)" % self.dev.platform)
        self.device_name = getattr(self.dev, "device_kind", None) or self.dev.platform
        if self.dev.platform == "cpu":
            self.device_name = "cpu"
        prec = {"fp32": "highest", "tf32": "tensorfloat32", "bf16": None,
                "fp64": "highest"}[args.precision]
        if prec:
            jax.config.update("jax_default_matmul_precision", prec)
        if args.precision == "fp64":
            jax.config.update("jax_enable_x64", True)
        self.dtype = {"bf16": jax.numpy.bfloat16, "fp64": jax.numpy.float64}.get(
            args.precision, jax.numpy.float32)
        self.in_dtype = jax.numpy.float64 if args.precision == "fp64" else jax.numpy.float32
        self.scale = None if args.raw_pixels else 255.0
        self._last = None

    def build(self, num_classes, weights, image_shape):
        jax, np = self.jax, self.np
        self._hw = tuple(image_shape)
        jnp = jax.numpy
        import flax.linen as nn
        self.model = make_model(nn, jnp, jax.lax, self.args.model, num_classes, self.dtype)
        h = w = 32
        spec = jax.eval_shape(lambda: self.model.init(jax.random.PRNGKey(0),
                                                      jnp.zeros((2, h, w, 3), jnp.float32),
                                                      train=False))
        variables = torch_to_flax(np, weights)
        if self.args.precision == "fp64":
            variables = jax.tree_util.tree_map(lambda a: a.astype(np.float64), variables)
        want = jax.tree_util.tree_map(lambda s: tuple(s.shape), spec)
        got = jax.tree_util.tree_map(lambda a: tuple(a.shape), variables)
        if want != got:  # a mapping bug, not bad input: resnet.load_weights checked the file
            raise RuntimeError("Flax variables do not match the weights' layout")
        variables = jax.device_put(variables, self.dev)
        self.params = variables["params"]
        self.stats = variables["batch_stats"]
        self.tx = self.optax.sgd(learning_rate=self.args.lr, momentum=self.args.momentum)
        self.opt_state = self.tx.init(self.params)
        donate = (0, 1, 2) if self.dev.platform != "cpu" else ()
        self._train_jit = jax.jit(self._train_fn, donate_argnums=donate)
        self._train_dev_jit = jax.jit(self._train_dev_fn, donate_argnums=donate)
        self._eval_jit = jax.jit(self._eval_fn)
        self._train_exec, self._train_dev_exec, self._eval_exec = {}, {}, {}

    def _prep(self, x_u8):
        x = x_u8.astype(self.in_dtype)
        return x / self.scale if self.scale is not None else x

    def _loss(self, params, stats, x, y):
        jnp = self.jax.numpy
        logits, new = self.model.apply({"params": params, "batch_stats": stats}, x, train=True,
                                       mutable=["batch_stats"])
        lse = self.jax.nn.logsumexp(logits, axis=1)
        loss = jnp.mean(lse - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])
        return loss, new["batch_stats"]

    def _train_fn(self, params, stats, opt_state, x_u8, y):
        (loss, stats), grads = self.jax.value_and_grad(self._loss, has_aux=True)(
            params, stats, self._prep(x_u8), y)
        updates, opt_state = self.tx.update(grads, opt_state, params)
        return self.optax.apply_updates(params, updates), stats, opt_state, loss

    def _train_dev_fn(self, params, stats, opt_state, all_x, all_y, idx):
        return self._train_fn(params, stats, opt_state, all_x[idx], all_y[idx])

    def _eval_fn(self, params, stats, x_u8):
        return self.model.apply({"params": params, "batch_stats": stats}, self._prep(x_u8),
                                train=False)

    def put_data(self, train_x, train_y):
        self.dev_x = self.jax.device_put(train_x, self.dev)
        self.dev_y = self.jax.device_put(train_y.astype(self.np.int32), self.dev)

    def _sds(self, shape, dtype):
        return self.jax.ShapeDtypeStruct(shape, dtype)

    def _compile_train(self, n):
        if n not in self._train_exec:
            hw = self._hw
            self._train_exec[n] = self._train_jit.lower(
                self.params, self.stats, self.opt_state, self._sds((n,) + hw, self.np.uint8),
                self._sds((n,), self.np.int32)).compile()
        return self._train_exec[n]

    def _compile_train_dev(self, n):
        if n not in self._train_dev_exec:
            self._train_dev_exec[n] = self._train_dev_jit.lower(
                self.params, self.stats, self.opt_state, self.dev_x, self.dev_y,
                self._sds((n,), self.np.int32)).compile()
        return self._train_dev_exec[n]

    def _compile_eval(self, n):
        if n not in self._eval_exec:
            self._eval_exec[n] = self._eval_jit.lower(
                self.params, self.stats, self._sds((n,) + self._hw, self.np.uint8)).compile()
        return self._eval_exec[n]

    def warm_up(self, train_sizes, eval_sizes):
        for n in train_sizes:
            if hasattr(self, "dev_x"):
                self._compile_train_dev(n)
            else:
                self._compile_train(n)
        for n in eval_sizes:
            self._compile_eval(n)

    def train_host(self, x_u8, y):
        f = self._compile_train(len(y))
        x = self.jax.device_put(x_u8, self.dev)
        y = self.jax.device_put(y.astype(self.np.int32), self.dev)
        self.params, self.stats, self.opt_state, loss = f(self.params, self.stats,
                                                          self.opt_state, x, y)
        self._last = loss
        return loss

    def train_device(self, idx):
        f = self._compile_train_dev(len(idx))
        i = self.jax.device_put(idx.astype(self.np.int32), self.dev)
        self.params, self.stats, self.opt_state, loss = f(self.params, self.stats,
                                                          self.opt_state, self.dev_x,
                                                          self.dev_y, i)
        self._last = loss
        return loss

    def predict(self, x_u8):
        out = self._compile_eval(len(x_u8))(self.params, self.stats,
                                            self.jax.device_put(x_u8, self.dev))
        self._last = out
        return out

    def to_numpy(self, out):
        return self.np.asarray(out)

    def losses_mean(self, losses):
        return float(self.np.mean(self.np.asarray(self.jax.device_get(losses),
                                                  dtype=self.np.float64)))

    def sync(self):
        # JAX has no device-wide barrier: wait for the newest result, which depends on every
        # step queued before it (each step consumes the previous step's parameters).
        if self._last is not None:
            self.jax.block_until_ready(self._last)
        self.jax.block_until_ready((self.params, self.stats))

    def extra_info(self):
        import jaxlib
        return {"jaxlib_version": getattr(jaxlib, "__version__", None),
                "flax_version": self.flax.__version__, "optax_version": self.optax.__version__,
                "jax_platform": self.dev.platform,
                "jax_matmul_precision": getattr(self.jax.config, "jax_default_matmul_precision",
                                                None),
                # JAX_COMPILATION_CACHE_DIR (set by experiments/quick.yaml): with a warm cache
                # the startup phase holds no XLA compilation, so startups are not comparable.
                "jax_compilation_cache_dir": getattr(self.jax.config,
                                                     "jax_compilation_cache_dir", None)}


def main(argv=None):
    args = cli.parse_args(FRAMEWORK, argv)
    if args.impl == "stock":
        cli.fail(FRAMEWORK, "--impl stock: JAX and Flax ship no ResNet of their own, so there is "
                            "no stock model to run (use --impl matched)")
    if args.device == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
    elif args.device == "cuda":
        os.environ["JAX_PLATFORMS"] = "cuda"
    import joulebench as jb
    jb.begin("startup")
    from workloads.common import driver

    def make_backend():
        import jax
        return JaxBackend(jax)

    return driver.main(args, make_backend, FRAMEWORK)


if __name__ == "__main__":
    sys.exit(main())

"""The ResNet layout every `--impl matched` model follows, and its initial weights.

Layout: torchvision's ResNet v1.5 (torchvision.models.resnet50/101/152): a 7x7 stride-2 stem conv
(padding 3, no bias), batch norm, ReLU, 3x3 stride-2 max pool (padding 1), four stages of
bottleneck blocks (1x1 -> 3x3 -> 1x1 convs, the stride on the 3x3 conv, a 1x1 conv + batch norm
projection on the first block of each stage), global average pool, one fully connected layer.
On 32x32 inputs the feature maps are 16, 8, 8, 4, 2, 1 pixels wide: the study used the stock
ImageNet network unchanged on CIFAR-size images, and so do we.

Parameter names and shapes are torchvision's state_dict ones (OIHW conv kernels, fc.weight
(classes, 2048)), without `num_batches_tracked`.  The initial weights are drawn with numpy from a
seed with the distributions torchvision's constructor uses, so every framework starts from the
same numbers without needing PyTorch.  This module builds no network; each framework does.
"""

import collections
import math

import numpy as np

MODELS = {
    "resnet50": (3, 4, 6, 3),
    "resnet101": (3, 4, 23, 3),
    "resnet152": (3, 8, 36, 3),
}
EXPANSION = 4
STAGE_PLANES = (64, 128, 256, 512)
STAGE_STRIDES = (1, 2, 2, 2)
FEATURES = 512 * EXPANSION
BN_EPS = 1e-5        # PyTorch's BatchNorm2d default
BN_MOMENTUM = 0.1    # PyTorch convention: new = (1 - m) * running + m * batch
BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var")


def blocks(model):
    """Yields (prefix, in_ch, width, out_ch, stride, has_downsample) for each bottleneck block."""
    if model not in MODELS:
        raise ValueError("unknown model %r (one of %s)" % (model, ", ".join(MODELS)))
    in_ch = 64
    for stage, (n, planes, stride) in enumerate(zip(MODELS[model], STAGE_PLANES, STAGE_STRIDES)):
        out_ch = planes * EXPANSION
        for b in range(n):
            s = stride if b == 0 else 1
            yield ("layer%d.%d" % (stage + 1, b), in_ch, planes, out_ch, s,
                   b == 0 and (s != 1 or in_ch != out_ch))
            in_ch = out_ch


def param_shapes(model, num_classes):
    """OrderedDict torchvision name -> shape, in torchvision's state_dict order."""
    shapes = collections.OrderedDict()

    def conv(name, o, i, k):
        shapes[name + ".weight"] = (o, i, k, k)

    def bn(name, c):
        for s in BN_SUFFIXES:
            shapes[name + "." + s] = (c,)

    conv("conv1", 64, 3, 7)
    bn("bn1", 64)
    for prefix, in_ch, width, out_ch, _stride, down in blocks(model):
        conv(prefix + ".conv1", width, in_ch, 1)
        bn(prefix + ".bn1", width)
        conv(prefix + ".conv2", width, width, 3)
        bn(prefix + ".bn2", width)
        conv(prefix + ".conv3", out_ch, width, 1)
        bn(prefix + ".bn3", out_ch)
        if down:
            conv(prefix + ".downsample.0", out_ch, in_ch, 1)
            bn(prefix + ".downsample.1", out_ch)
    shapes["fc.weight"] = (num_classes, FEATURES)
    shapes["fc.bias"] = (num_classes,)
    return shapes


def init_weights(model, num_classes, seed):
    """Initial weights with torchvision's distributions, drawn from numpy's PCG64(seed).

    Conv kernels: kaiming normal, mode fan_out, gain sqrt(2) (std = sqrt(2 / (out * k * k))).
    Batch norm: weight 1, bias 0, running mean 0, running var 1.  fc: PyTorch's nn.Linear
    default, weight and bias uniform in +-1/sqrt(fan_in).  Values are float32; the draw order is
    the state_dict order, so a seed names one set of weights on every machine.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    out = collections.OrderedDict()
    for name, shape in param_shapes(model, num_classes).items():
        if name.startswith("fc."):
            bound = 1.0 / math.sqrt(FEATURES)
            out[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        elif len(shape) == 4:
            fan_out = shape[0] * shape[2] * shape[3]
            out[name] = (rng.standard_normal(size=shape) * math.sqrt(2.0 / fan_out)).astype(
                np.float32)
        elif name.endswith(".weight") or name.endswith(".running_var"):
            out[name] = np.ones(shape, np.float32)
        else:
            out[name] = np.zeros(shape, np.float32)
    return out


class WeightsError(Exception):
    """A weights file that does not fit the requested model (message names the file and why)."""


def _guess_model(names):
    """The model a set of names belongs to, or None."""
    for model in MODELS:
        expected = {n for n in param_shapes(model, 1)}
        if {n for n in names if not n.endswith("num_batches_tracked")} == expected:
            return model
    return None


def load_weights(path, model, num_classes):
    """Reads an .npz of torchvision-named arrays and checks it is for `model` with `num_classes`.

    Returns an OrderedDict name -> float32 array in state_dict order.  `num_batches_tracked`
    entries are ignored.  Raises WeightsError naming the file and the mismatch.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise WeightsError("cannot open weights file '%s': no such file" % path) from None
    except (OSError, ValueError) as e:
        raise WeightsError("cannot read weights file '%s': %s (expected an .npz from "
                           "workloads/common/export_init.py)" % (path, e)) from None
    arrays = {k: v for k, v in arrays.items() if not k.endswith("num_batches_tracked")}
    shapes = param_shapes(model, num_classes)
    missing = [n for n in shapes if n not in arrays]
    extra = [n for n in arrays if n not in shapes]
    if missing or extra:
        other = _guess_model(arrays)
        if other and other != model:
            raise WeightsError("weights file '%s' is for %s, not %s (make one with: "
                               "export_init.py --model %s)" % (path, other, model, model))
        raise WeightsError("weights file '%s' does not match %s: %d names missing (e.g. '%s'), "
                           "%d unexpected (e.g. '%s')" % (
                               path, model, len(missing), missing[0] if missing else "-",
                               len(extra), extra[0] if extra else "-"))
    fc = arrays["fc.weight"].shape
    if len(fc) == 2 and fc[1] == FEATURES and fc[0] != num_classes:
        raise WeightsError("weights file '%s' has %d classes (fc.weight %s), the data set has %d "
                           "(make one with: export_init.py --classes %d)"
                           % (path, fc[0], tuple(fc), num_classes, num_classes))
    out = collections.OrderedDict()
    for name, shape in shapes.items():
        a = arrays[name]
        if tuple(a.shape) != tuple(shape):
            raise WeightsError("weights file '%s': '%s' has shape %s, %s needs %s"
                               % (path, name, tuple(a.shape), model, tuple(shape)))
        if not np.issubdtype(a.dtype, np.floating):
            raise WeightsError("weights file '%s': '%s' has dtype %s, expected floating point"
                               % (path, name, a.dtype))
        if not np.all(np.isfinite(a)):
            raise WeightsError("weights file '%s': '%s' holds NaN or infinite values"
                               % (path, name))
        out[name] = np.ascontiguousarray(a, dtype=np.float32)
    return out

#!/usr/bin/env python3
"""Writes the initial weights of a torchvision-layout ResNet to an .npz (torchvision names).

    python3 workloads/common/export_init.py --model resnet50 --classes 10 --seed 1 -o init.npz

Every workload given `--init init.npz` (with --impl matched) starts from these numbers.  By
default they are drawn with numpy (workloads/common/resnet.py: torchvision's distributions, no
PyTorch needed); `--source torchvision` takes them from torchvision.models.resnetXX(weights=None,
num_classes=C) after torch.manual_seed(seed) instead.  Keys are torchvision's state_dict names;
num_batches_tracked is left out.  The file is written to a temporary name and renamed.
"""

import argparse
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[0] = _ROOT  # not workloads/common: its module names must not shadow anything

from workloads.common import resnet  # noqa: E402

import numpy as np  # noqa: E402


def from_torchvision(model, classes, seed):
    import torch
    import torchvision
    torch.manual_seed(seed)
    m = getattr(torchvision.models, model)(weights=None, num_classes=classes)
    return {k: v.detach().cpu().numpy() for k, v in m.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def main(argv=None):
    p = argparse.ArgumentParser(prog="workloads/common/export_init.py",
                                description="Write ResNet initial weights (torchvision names).")
    p.add_argument("--model", default="resnet50", choices=sorted(resnet.MODELS))
    p.add_argument("--classes", type=int, required=True, help="number of classes (fc outputs)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--source", choices=("numpy", "torchvision"), default="numpy")
    p.add_argument("-o", "--output", required=True, help="the .npz to write")
    args = p.parse_args(argv)
    if args.classes < 2:
        p.error("--classes must be at least 2")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    if args.source == "numpy":
        w = resnet.init_weights(args.model, args.classes, args.seed)
    else:
        w = from_torchvision(args.model, args.classes, args.seed)
    out = args.output if args.output.endswith(".npz") else args.output + ".npz"
    tmp = out + ".tmp.npz"
    try:
        np.savez(tmp, **w)
        os.replace(tmp, out)
    except OSError as e:
        sys.stderr.write("export_init.py: error: cannot write '%s': %s\n" % (out, e.strerror))
        return 1
    n = sum(a.size for a in w.values())
    print("%s: %s, %d classes, seed %d, %d arrays, %d parameters (%s)"
          % (out, args.model, args.classes, args.seed, len(w), n, args.source))
    return 0


if __name__ == "__main__":
    sys.exit(main())

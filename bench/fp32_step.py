#!/usr/bin/env python3
"""How far float32 is from float64 for the matched ResNet-50 and one SGD step, in PyTorch on CPU.

The numbers behind docs/workloads.md ("The loss after a step is not comparable in float32"):
for one batch, the gradient norm, the float32 gradient's relative error against float64 (whole
network, fc, the last block), and the training loss after one SGD step (momentum 0.9, as the
workloads) in both precisions, i.e. what workloads/common/driver.py --check-out reports as loss1.

usage: bench/fp32_step.py [--data DIR] [--size PX] [--batch N] [--lr LR]
  --data DIR   a set made by 'joulebench data synth' (DIR holds train_x.npy); default: uniform
               noise images as in tests/python/test_workloads.py (seed 7, 16 images)
Needs torch and torchvision (the project's .venv has them).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from workloads.common import resnet  # noqa: E402


def batch(args):
    if args.data:
        x = np.load(os.path.join(args.data, "train_x.npy"))[:args.batch]
        y = np.load(os.path.join(args.data, "train_y.npy"))[:args.batch]
        return x, y
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, size=(args.batch, args.size, args.size, 3), dtype=np.uint8)
    return x, np.arange(args.batch, dtype=np.int64) % 10


def step(weights, x, y, dtype, lr):
    """Gradients of the first step and the training loss after it."""
    model = torchvision.models.resnet50(weights=None, num_classes=10)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    model = model.to(dtype=dtype).train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    xi = torch.from_numpy(x).permute(0, 3, 1, 2).to(dtype) / 255
    yi = torch.from_numpy(y)
    loss0 = torch.nn.functional.cross_entropy(model(xi), yi)
    loss0.backward()
    grads = {n: p.grad.double().numpy().copy() for n, p in model.named_parameters()}
    opt.step()
    with torch.no_grad():
        loss1 = torch.nn.functional.cross_entropy(model(xi), yi)
    return grads, float(loss0.detach()), float(loss1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=0.001)
    args = ap.parse_args()
    torch.manual_seed(0)
    x, y = batch(args)
    w = resnet.init_weights("resnet50", 10, 1)
    g64, l0_64, l1_64 = step(w, x, y, torch.float64, args.lr)
    g32, l0_32, l1_32 = step(w, x, y, torch.float32, args.lr)

    def rel(names):
        d = sum(np.sum((g64[n] - g32[n]) ** 2) for n in names) ** 0.5
        return d / sum(np.sum(g64[n] ** 2) for n in names) ** 0.5

    names = list(g64)
    norm = sum(np.sum(g ** 2) for g in g64.values()) ** 0.5
    print("data %s, %dx%d px, batch %d, lr %g" % (args.data or "noise", x.shape[1], x.shape[2],
                                                  len(y), args.lr))
    print("gradient norm %.4g (conv1 %.4g)" % (norm, np.linalg.norm(g64["conv1.weight"])))
    print("fp32 gradient error vs fp64: all %.2e, fc %.2e, layer4.2 %.2e" % (
        rel(names), rel([n for n in names if n.startswith("fc.")]),
        rel([n for n in names if n.startswith("layer4.2.")])))
    print("loss before the step: fp64 %.6f fp32 %.6f (rel %.1e)" % (
        l0_64, l0_32, abs(l0_32 - l0_64) / l0_64))
    print("loss after the step:  fp64 %.6f fp32 %.6f (rel %.1e)" % (
        l1_64, l1_32, abs(l1_32 - l1_64) / l1_64))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""GPU loads for bench/gpu/phase-checks.sh (issue 8), each marking its phases through JOULEBENCH_FD
(protocol lines written by hand, so no joulebench package is needed; bf16 matrix products on the
first CUDA device).

  phase_load.py split  [--group-s 8]     one steady load split into phases of 1 s, 300 ms, 100 ms,
                                         30 ms (phase "splitMS", a "groupMS" around each length)
  phase_load.py bursts [--seconds 20]    25 ms bursts every 101 ms, idle between; 1 s phases
                                         ("second")
  phase_load.py eval   [--count 12]      eval-like: 0.5 s idle, then ~30 ms of work ("eval"), as the
                                         quick.yaml evaluations were (17-35 ms)

Bounds are marked right after torch.cuda.synchronize(), so the work before a bound has finished."""
import argparse
import json
import os
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["split", "bursts", "eval"])
ap.add_argument("--group-s", type=float, default=8)
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--count", type=int, default=12)
ap.add_argument("--size", type=int, default=8192)
args = ap.parse_args()

fd = int(os.environ["JOULEBENCH_FD"]) if "JOULEBENCH_FD" in os.environ else None
dev = torch.device("cuda")
a = torch.randn(args.size, args.size, device=dev, dtype=torch.bfloat16)
b = torch.randn(args.size, args.size, device=dev, dtype=torch.bfloat16)
small = torch.randn(2048, 2048, device=dev, dtype=torch.bfloat16)


def mark(event, phase, index, t=None):
    if fd is None:
        return
    obj = {"t": t if t is not None else time.monotonic_ns(), "event": event, "phase": phase,
           "index": index}
    os.write(fd, (json.dumps(obj) + "\n").encode())


def busy_until(t_end_ns, x, y):
    """Matrix products until t_end (monotonic ns), synchronised: returns when the GPU is done."""
    n = 0
    while time.monotonic_ns() < t_end_ns:
        x @ y
        n += 1
        if n % 2 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()


for _ in range(3):
    (a @ b).sum().item()
torch.cuda.synchronize()
time.sleep(1.0)

if args.mode == "split":
    # One steady load: the GPU never idles between phases (bounds are marked between products).
    for length_ms in (1000, 300, 100, 30):
        t = time.monotonic_ns()
        mark("begin", "group%d" % length_ms, 0, t)
        end_group = t + int(args.group_s * 1e9)
        i = 0
        while t + length_ms * 1e6 <= end_group:
            mark("begin", "split%d" % length_ms, i, t)
            busy_until(t + int(length_ms * 1e6), small, small)
            t2 = time.monotonic_ns()
            mark("end", "split%d" % length_ms, i, t2)
            t = t2
            i += 1
        mark("end", "group%d" % length_ms, 0, t)
elif args.mode == "bursts":
    t0 = time.monotonic_ns()
    period, burst = 101e6, 25e6
    second = 0
    mark("begin", "second", second, t0)
    k = 0
    while True:
        start = t0 + int(k * period)
        if start > t0 + args.seconds * 1e9:
            break
        while time.monotonic_ns() < start:
            time.sleep(max(0, (start - time.monotonic_ns()) / 1e9 - 0.0005))
        busy_until(start + int(burst), a, b)
        now = time.monotonic_ns()
        if now - t0 >= (second + 1) * 1e9:
            mark("end", "second", second, now)
            second += 1
            mark("begin", "second", second, now)
        k += 1
    mark("end", "second", second, time.monotonic_ns())
else:
    for i in range(args.count):
        time.sleep(0.5)
        torch.cuda.synchronize()
        t = time.monotonic_ns()
        mark("begin", "eval", i, t)
        busy_until(t + int(30e6), small, small)
        mark("end", "eval", i)
# Readings go on for a while after the last bound, so that it lies between two counter updates
# read before the command ends (stat stops sampling when it does).
time.sleep(0.5)

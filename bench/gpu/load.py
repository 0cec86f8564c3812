#!/usr/bin/env python3
"""GPU load for the measuring benchmarks (bench/gpu/run-all.sh): a square wave of matrix
products (busy) and sleeps (idle), each half marked as a phase through JOULEBENCH_FD.

  load.py --busy-ms 300 --idle-ms 700 --cycles 10 [--direct FILE]

With --direct, it also reads NVML's energy counter itself (nvidia-ml-py) right after the device is
synchronised at the start of the first and the end of the last phase, and writes the difference:
the reference that 'joulebench stat' is checked against (issue 2, benchmark a).
Protocol lines are written by hand, so this runs with no joulebench package installed."""
import argparse
import json
import os
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--busy-ms", type=float, default=300)
ap.add_argument("--idle-ms", type=float, default=700)
ap.add_argument("--cycles", type=int, default=10)
ap.add_argument("--size", type=int, default=8192)
ap.add_argument("--direct")
args = ap.parse_args()

fd = int(os.environ["JOULEBENCH_FD"]) if "JOULEBENCH_FD" in os.environ else None


def mark(event, phase, index, **kw):
    if fd is None:
        return
    obj = {"t": time.monotonic_ns(), "event": event, "phase": phase, "index": index}
    obj.update(kw)
    os.write(fd, (json.dumps(obj) + "\n").encode())


dev = torch.device("cuda")
a = torch.randn(args.size, args.size, device=dev, dtype=torch.bfloat16)
b = torch.randn(args.size, args.size, device=dev, dtype=torch.bfloat16)
for _ in range(3):
    (a @ b).sum().item()
torch.cuda.synchronize()
time.sleep(1.0)  # settle before the first phase

nv = None
if args.direct:
    import pynvml
    pynvml.nvmlInit()
    nv = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())

torch.cuda.synchronize()
if nv is not None:
    e0_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(nv)
t_start = time.monotonic_ns()
for i in range(1, args.cycles + 1):
    torch.cuda.synchronize()
    mark("begin", "busy", i)
    end = time.monotonic() + args.busy_ms / 1000
    n = 0
    while time.monotonic() < end:
        c = a @ b
        n += 1
        if n % 4 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    mark("end", "busy", i, items=n)
    mark("begin", "idle", i)
    time.sleep(args.idle_ms / 1000)
    mark("end", "idle", i)
torch.cuda.synchronize()
t_end = time.monotonic_ns()
if nv is not None:
    e1_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(nv)
    with open(args.direct, "w") as f:
        json.dump({"energy_j": (e1_mj - e0_mj) / 1000.0,
                   "t_begin_ns": t_start, "t_end_ns": t_end,
                   "duration_s": (t_end - t_start) / 1e9}, f)

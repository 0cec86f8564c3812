#!/usr/bin/env python3
"""GPU load for bench/gpu/monitor-check.sh: blocks of bf16 matrix products and sleeps, each
measured twice on the same GPU at once: by a joulebench.Monitor window in this process, and,
when run under `joulebench stat`, by a protocol phase of the same name around it (the phase's
marks are taken just outside the window's bounds).  Writes the windows' Measurements as JSON
(--out) and prints the first one the way a user sees it.

  monitor_load.py --out FILE [--meters gpu0] [--seconds 4] [--steps 6] [--mock]

--mock runs sleeps instead of matrix products (no torch, no GPU): with a simulated meter
(--meters sim:nvml...) it tries the pipeline on a machine without a GPU.
"""
import argparse
import json
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(_ROOT, "python"))

import joulebench as jb  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--meters", default="gpu0")
ap.add_argument("--seconds", type=float, default=4.0, help="the steady block")
ap.add_argument("--steps", type=int, default=6, help="short blocks: 300 ms busy, 200 ms idle")
ap.add_argument("--size", type=int, default=8192)
ap.add_argument("--mock", action="store_true")
args = ap.parse_args()

if args.mock:
    def sync():
        pass

    def busy(secs):
        time.sleep(secs)
else:
    import torch
    dev = torch.device("cuda")
    a = torch.randn(args.size, args.size, device=dev, dtype=torch.bfloat16)
    b = torch.randn(args.size, args.size, device=dev, dtype=torch.bfloat16)
    for _ in range(3):
        (a @ b).sum().item()
    sync = torch.cuda.synchronize

    def busy(secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            for _ in range(4):
                a @ b
            sync()

sync()
mon = jb.Monitor(args.meters, interval_ms=100, sync=sync)
time.sleep(1.5)  # the counter's update grid is found in the first ~1 s

pending = []  # (name, index, PendingMeasurement)


def both(name, index, fn):
    sync()
    jb.begin(name, index)          # stat's phase (a no-op without JOULEBENCH_FD) ...
    mon.begin_window(name)         # ... and the window, inside it
    fn()
    p = mon.end_window(name, wait=False)   # synchronises first (sync=) and does not wait
    jb.end(name, index)
    pending.append((name, index, p))


mon.begin_window("all")
both("steady", 0, lambda: busy(args.seconds))
both("idle", 0, lambda: time.sleep(1.0))
for i in range(args.steps):
    both("busy", i, lambda: busy(0.3))
    both("rest", i, lambda: time.sleep(0.2))
p_all = mon.end_window("all", wait=False)
time.sleep(0.6)  # stat resolves phases ending in its last ~0.2 s as partial

rows = []
for name, index, p in pending + [("all", 0, p_all)]:
    m = p.result()
    d = m.to_dict()
    d["index"] = index
    rows.append(d)
with open(args.out, "w") as f:
    json.dump({"meters": [x.id for x in mon.meters], "simulated": mon.simulated,
               "library": jb._lib.library_path(), "windows": rows}, f, indent=1)

first = pending[0][2].result()
print("-- a Monitor window, as printed (str, then repr):")
print(first)
print(repr(first))
mon.close()

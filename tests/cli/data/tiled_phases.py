#!/usr/bin/env python3
"""A stand-in workload for tests/cli/phases_nvml_sim.sh: after SETTLE seconds, one phase 'outer'
tiled exactly by N phases 'part' of MS milliseconds each (the same timestamps at each shared
bound), marked through JOULEBENCH_FD.  Usage: tiled_phases.py SETTLE N MS"""
import json
import os
import sys
import time

fd = int(os.environ["JOULEBENCH_FD"])
settle, n, ms = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


def emit(obj):
    os.write(fd, (json.dumps(obj) + "\n").encode())


time.sleep(settle)
t = time.monotonic_ns()
emit({"t": t, "event": "begin", "phase": "outer"})
for i in range(1, n + 1):
    emit({"t": t, "event": "begin", "phase": "part", "index": i})
    t += int(ms * 1e6)
    while time.monotonic_ns() < t:
        time.sleep((t - time.monotonic_ns()) / 1e9 if t > time.monotonic_ns() else 0)
    emit({"t": t, "event": "end", "phase": "part", "index": i})
emit({"t": t, "event": "end", "phase": "outer"})

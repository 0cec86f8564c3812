#!/usr/bin/env python3
"""A stand-in workload for tests/cli/stat_nvml_sim.sh: after SETTLE seconds, N phases named
'eval' of MS milliseconds each, GAP_MS apart, marked through JOULEBENCH_FD (protocol lines
written by hand).  Usage: short_phases.py SETTLE N MS GAP_MS"""
import json
import os
import sys
import time

fd = int(os.environ["JOULEBENCH_FD"])
settle, n, ms, gap_ms = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])


def emit(obj):
    os.write(fd, (json.dumps(obj) + "\n").encode())


def sleep_until(t_ns):
    while True:
        left = (t_ns - time.monotonic_ns()) / 1e9
        if left <= 0:
            return
        time.sleep(left)


time.sleep(settle)
t = time.monotonic_ns()
for i in range(1, n + 1):
    emit({"t": t, "event": "begin", "phase": "eval", "index": i})
    t += int(ms * 1e6)
    sleep_until(t)
    emit({"t": t, "event": "end", "phase": "eval", "index": i})
    t += int(gap_ms * 1e6)
    sleep_until(t)

#!/usr/bin/env python3
"""A stand-in workload for the CLI tests: marks phases through JOULEBENCH_FD with the protocol
lines of DESIGN.md section 3, written by hand (no client library), plus some malformed lines.
Usage: workload.py EPOCHS EPOCH_SECONDS [--bad]"""
import json
import os
import sys
import time

fd = int(os.environ["JOULEBENCH_FD"])
epochs, secs = int(sys.argv[1]), float(sys.argv[2])
bad = "--bad" in sys.argv


def emit(obj):
    os.write(fd, (json.dumps(obj) + "\n").encode())


emit({"event": "info", "values": {"framework": "none", "device": "cpu"}})
emit({"t": time.monotonic_ns(), "event": "begin", "phase": "startup", "index": 0})
time.sleep(secs / 2)
emit({"t": time.monotonic_ns(), "event": "end", "phase": "startup", "index": 0})
if bad:
    os.write(fd, b"this is not json\n")
    os.write(fd, b'{"t": 1, "event": "explode", "phase": "x"}\n')
    os.write(fd, b'{"event": "begin", "phase": "epoch", "index": 9}\n')
for e in range(1, epochs + 1):
    emit({"t": time.monotonic_ns(), "event": "begin", "phase": "epoch", "index": e})
    time.sleep(secs)
    emit({"t": time.monotonic_ns(), "event": "end", "phase": "epoch", "index": e, "items": 1000})
    emit({"t": time.monotonic_ns(), "event": "metric", "phase": "eval", "index": e,
          "values": {"accuracy": 0.1 * e, "loss": 2.0 / e}})

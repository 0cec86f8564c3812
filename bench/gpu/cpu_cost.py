#!/usr/bin/env python3
"""CPU time of samplers over the same wall time, run side by side (issue 2, benchmark b).
Each command runs for --seconds; its user+system CPU time comes from wait4's rusage.

  cpu_cost.py --seconds 60 --out FILE"""
import argparse
import json
import os
import signal
import subprocess
import time

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--jb", default="joulebench")
ap.add_argument("--out", required=True)
args = ap.parse_args()
S = str(int(args.seconds))
NVSMI_FIELDS = "power,temp,mem_used,util,mem_util"
Q = "timestamp,power.draw,temperature.gpu,memory.used,utilization.gpu,utilization.memory"
cmds = {
    "nvidia-smi -lms 100": ["timeout", "-s", "INT", S, "nvidia-smi", "--query-gpu=" + Q,
                            "--format=csv", "-lms", "100"],
    "nvidia-smi -lms 10": ["timeout", "-s", "INT", S, "nvidia-smi", "--query-gpu=" + Q,
                           "--format=csv", "-lms", "10"],
    "joulebench sample -i 100": [args.jb, "sample", "-m", "gpu", "-i", "100", "--duration", S],
    "joulebench sample -i 10": [args.jb, "sample", "-m", "gpu", "-i", "10", "--duration", S],
    "joulebench sample -i 100 --fields (nvidia-smi's)": [
        args.jb, "sample", "-m", "gpu", "-i", "100", "--fields", NVSMI_FIELDS, "--duration", S],
    "joulebench sample -i 10 --fields (nvidia-smi's)": [
        args.jb, "sample", "-m", "gpu", "-i", "10", "--fields", NVSMI_FIELDS, "--duration", S],
    "joulebench sample -i 100 -E 100 (counter rows)": [
        args.jb, "sample", "-m", "gpu", "-i", "100", "-E", "100", "--duration", S],
}
procs = {}
t0 = time.monotonic()
for name, argv in cmds.items():
    procs[name] = subprocess.Popen(argv, stdout=subprocess.PIPE if False else open(os.devnull, "w"),
                                   stderr=subprocess.DEVNULL)
res = {}
for name, p in procs.items():
    _, status, ru = os.wait4(p.pid, 0)
    res[name] = {"cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
                 "wall_s": time.monotonic() - t0, "status": status}
for name, r in res.items():
    r["pct_of_core"] = 100 * r["cpu_s"] / args.seconds
json.dump(res, open(args.out, "w"), indent=1)
for name, r in res.items():
    print(f"{name:48s} cpu {r['cpu_s']:8.3f} s  = {r['pct_of_core']:6.3f}% of a core")

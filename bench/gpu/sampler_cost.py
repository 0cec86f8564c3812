#!/usr/bin/env python3
"""CPU time of joulebench's sampler against nvidia-smi, all side by side over the same wall time
(issue 8, item 4; the method of bench/gpu/cpu_cost.py, docs/BENCHMARKS.md (b)).  Each command runs
for --seconds; its user+system CPU time comes from wait4's rusage, process start-up included.
joulebench runs with the power readings batched into one nvmlDeviceGetFieldValues call (the
default where the driver allows) and without (JOULEBENCH_NVML_BATCH=0).

  sampler_cost.py --seconds 60 --out FILE [--jb joulebench]"""
import argparse
import json
import os
import subprocess
import time

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--jb", default="joulebench")
ap.add_argument("--out", required=True)
args = ap.parse_args()
S = str(int(args.seconds))
FIELDS = "power,temp,mem_used,util,mem_util"
Q = "timestamp,power.draw,temperature.gpu,memory.used,utilization.gpu,utilization.memory"
nobatch = dict(os.environ, JOULEBENCH_NVML_BATCH="0")
cmds = {
    "nvidia-smi -lms 100": (["timeout", "-s", "INT", S, "nvidia-smi", "--query-gpu=" + Q,
                             "--format=csv", "-lms", "100"], None),
    "nvidia-smi -lms 10": (["timeout", "-s", "INT", S, "nvidia-smi", "--query-gpu=" + Q,
                            "--format=csv", "-lms", "10"], None),
    "joulebench sample -i 100 --fields (nvidia-smi's), batched": (
        [args.jb, "sample", "-m", "gpu0", "-i", "100", "--fields", FIELDS, "--duration", S], None),
    "joulebench sample -i 100 --fields (nvidia-smi's), per gauge": (
        [args.jb, "sample", "-m", "gpu0", "-i", "100", "--fields", FIELDS, "--duration", S],
        nobatch),
    "joulebench sample -i 10 --fields (nvidia-smi's), batched": (
        [args.jb, "sample", "-m", "gpu0", "-i", "10", "--fields", FIELDS, "--duration", S], None),
    "joulebench sample -i 10 --fields (nvidia-smi's), per gauge": (
        [args.jb, "sample", "-m", "gpu0", "-i", "10", "--fields", FIELDS, "--duration", S],
        nobatch),
    "joulebench sample -i 100 --fields power,power_instant, batched": (
        [args.jb, "sample", "-m", "gpu0", "-i", "100", "--fields", "power,power_instant",
         "--duration", S], None),
    "joulebench sample -i 100 --fields power,power_instant, per gauge": (
        [args.jb, "sample", "-m", "gpu0", "-i", "100", "--fields", "power,power_instant",
         "--duration", S], nobatch),
    "joulebench sample -i 100 (all gauges), batched": (
        [args.jb, "sample", "-m", "gpu0", "-i", "100", "--duration", S], None),
    "joulebench stat -i 100 -- sleep (counter locked to its updates)": (
        [args.jb, "stat", "-q", "-i", "100", "-m", "gpu0", "--", "sleep", S], None),
}
procs = {}
t0 = time.monotonic()
for name, (argv, env) in cmds.items():
    procs[name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env)
res = {}
for name, p in procs.items():
    _, status, ru = os.wait4(p.pid, 0)
    res[name] = {"cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
                 "wall_s": time.monotonic() - t0, "status": status,
                 "pct_of_core": 100 * (ru.ru_utime + ru.ru_stime) / args.seconds}
json.dump(res, open(args.out, "w"), indent=1)
for name, r in res.items():
    print(f"{name:66s} cpu {r['cpu_s']:8.3f} s = {r['pct_of_core']:6.3f}% of a core"
          f"  (status {r['status']})")

#!/usr/bin/env python3
"""Generates a large nvidia-smi log with its per-epoch metric file, in the reference study's
format and file names, for timing 'joulebench import' + 'report' (bench/bench_import.sh).

Synthetic on purpose (no GPU involved): N samples of
`timestamp, power.draw [W], temperature.gpu, memory.used [MiB], utilization.gpu [%],
utilization.memory [%]` 100 ms apart (with an occasional sampling gap), and one metric row per
epoch.  The values are deterministic (seeded) and are not measurements.

usage: gen_nvsmi.py OUTDIR [--samples N] [--epochs E] [--runs R]
"""
import argparse
import datetime as dt
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    rnd = random.Random(1)
    t0 = dt.datetime(2026, 1, 2, 3, 0, 0)
    for run in range(1, a.runs + 1):
        base = os.path.join(a.outdir, f"run{run}-gpu-epoch{a.epochs}-batchsize128-pytorch-"
                            f"CIFAR10-resnet50")
        t = t0
        times = []
        with open(base + "-ENERGY.csv", "w") as f:
            f.write("timestamp, power.draw [W], temperature.gpu, memory.used [MiB], "
                    "utilization.gpu [%], utilization.memory [%]\n")
            for i in range(a.samples):
                gap = 2.0 if rnd.random() < 0.001 else 0.1
                t += dt.timedelta(seconds=gap)
                times.append(t)
                p = 150.0 + 50.0 * rnd.random()
                f.write(f"{t:%Y/%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}, {p:.2f} W, "
                        f"{60 + i % 5}, 5405 MiB, {rnd.randint(40, 99)} %, "
                        f"{rnd.randint(10, 40)} %\n")
        with open(base + "_MODEL.csv", "w") as f:
            f.write("epoch;precision;recall;accuracy;f1;timestamp\n")
            for e in range(a.epochs):
                te = times[min(len(times) - 1, (e + 1) * len(times) // a.epochs - 5)]
                acc = 0.3 + 0.02 * e
                f.write(f"{e};{acc:.4f};{acc:.4f};{acc:.4f};{acc:.4f};"
                        f"{te:%Y-%m-%d %H:%M:%S}\n")


if __name__ == "__main__":
    main()

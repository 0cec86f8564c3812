#!/usr/bin/env python3
"""Joins a seed-2023 report and a corrected report of the same results folder into the Markdown
table of docs/METHODOLOGY.md ("Reproducing the study, and what the corrections change").

usage: compare_methods.py SEED_REPORT_DIR CORRECTED_REPORT_DIR

Columns (energies in kJ, per configuration, averaged over its runs):
  seed      the study's number (configs.csv of --method seed-2023)
  per-run   the same unweighted-mean x epoch-time energy, computed per run and then averaged
            (runs.csv of seed-2023)
  trapezoid the same epoch windows, energy by the trapezoid integral of power (time-weighted),
            per run then averaged (epochs.csv energy_j_power of corrected)
  corrected the whole log: trapezoid over every sample, including the tail after the last epoch
            (configs.csv energy_j_mean of corrected)
and the epoch-1 versus epochs-2..N average power of both methods.
"""
import csv
import sys
from collections import defaultdict


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    seed_dir, corr_dir = sys.argv[1], sys.argv[2]
    levels = ["framework", "dataset", "model", "batch_size"]
    key = lambda r: tuple(r[k] for k in levels)
    seed = {key(r): r for r in rows(f"{seed_dir}/configs.csv")}
    corr = {key(r): r for r in rows(f"{corr_dir}/configs.csv")}
    per_run = defaultdict(lambda: defaultdict(float))
    for r in rows(f"{seed_dir}/runs.csv"):
        per_run[key(r)][r["run_id"]] += float(r["energy_j"])
    trap = defaultdict(lambda: defaultdict(float))
    for r in rows(f"{corr_dir}/epochs.csv"):
        trap[key(r)][r["run_id"]] += float(r["energy_j_power"])
    seed_ep = defaultdict(dict)
    for r in rows(f"{seed_dir}/epochs.csv"):
        seed_ep[key(r)][int(r["epoch"])] = float(r["power_w"])
    mean = lambda v: sum(v) / len(v)
    print("| framework | model | batch | seed kJ | per-run kJ | trapezoid kJ | corrected kJ "
          "| change | epoch 1 / rest W, seed | epoch 1 / rest W, corrected |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    tot = defaultdict(float)
    for k in sorted(seed, key=lambda k: (k[0], k[1], int(k[2].replace("resnet", "")), int(k[3]))):
        s = float(seed[k]["total_energy_kJ"])
        p = mean(list(per_run[k].values())) / 1000
        t = mean(list(trap[k].values())) / 1000
        c = float(corr[k]["energy_j_mean"]) / 1000
        ep = seed_ep[k]
        rest = mean([v for e, v in ep.items() if e >= 2])
        for name, v in (("seed", s), ("per", p), ("trap", t), ("corr", c)):
            tot[name] += v
        print(f"| {k[0]} | {k[2]} | {k[3]} | {s:.3f} | {p:.3f} | {t:.3f} | {c:.3f} "
              f"| {100 * (c - s) / s:+.1f}% | {ep[1]:.1f} / {rest:.1f} "
              f"| {float(corr[k]['epoch1_avg_power_w_mean']):.1f} / "
              f"{float(corr[k]['rest_avg_power_w_mean']):.1f} |")
    print(f"| all | | | {tot['seed']:.3f} | {tot['per']:.3f} | {tot['trap']:.3f} "
          f"| {tot['corr']:.3f} | {100 * (tot['corr'] - tot['seed']) / tot['seed']:+.1f}% | | |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A pandas re-implementation of the reference study's post-processing, for timing against
'joulebench import' + 'report --method seed-2023' (bench/bench_import.sh).

Written here from the study's description (tests/data/seed-2023/README.md): samples are assigned to epochs by
time since the first sample (pd.cut with the metric timestamps as right-closed bin edges, the first
edge -1); per run and epoch the unweighted mean of power and utilisation; across runs the mean per
epoch rounded to 3 decimals; energy = sum over epochs of mean epoch time x mean power.
Prints one CSV row per configuration (the columns of expected-cifar10-seed-method.csv).

usage: study_postprocess.py DIR   (DIR holds run*-...-ENERGY.csv and matching _MODEL.csv files)
"""
import glob
import os
import re
import sys

import pandas as pd

NAME = re.compile(r"run(\d+)-([^-]+)-epoch(\d+)-batchsize(\d+)-([^-]+)-([^-]+)-([^-]+)"
                  r"-ENERGY\.csv$")


def one_run(energy_path):
    e = pd.read_csv(energy_path, skipinitialspace=True)
    e.columns = [c.split(" [")[0].strip() for c in e.columns]
    e["timestamp"] = pd.to_datetime(e["timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    e["t"] = (e["timestamp"] - e["timestamp"].iloc[0]).dt.total_seconds()
    e["power"] = e["power.draw"].astype(str).str.rstrip(" W").astype(float)
    e["util"] = e["utilization.gpu"].astype(str).str.rstrip(" %").astype(float)
    m = pd.read_csv(energy_path.replace("-ENERGY.csv", "_MODEL.csv"), sep=";")
    m["t"] = (pd.to_datetime(m["timestamp"]) - e["timestamp"].iloc[0]).dt.total_seconds()
    edges = [-1.0] + m["t"].tolist()
    e["epoch"] = pd.cut(e["t"], bins=edges, labels=list(range(1, len(m) + 1)))
    g = e.dropna(subset=["epoch"]).groupby("epoch", observed=False)[["power", "util"]].mean()
    g["time"] = [edges[1]] + [edges[k + 1] - edges[k] for k in range(1, len(m))]
    g["accuracy"] = m["accuracy"].values
    return g


def main():
    rows = {}
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*-ENERGY.csv"), recursive=True)):
        mt = NAME.search(os.path.basename(path))
        if not mt:
            continue
        key = (mt.group(5), mt.group(6), mt.group(7), int(mt.group(4)))
        rows.setdefault(key, []).append(one_run(path))
    print("framework,dataset,model,batch_size,total_energy_kJ,mean_power_W,mean_gpu_util_pct,"
          "final_accuracy,total_time_s")
    for key in sorted(rows):
        avg = pd.concat(rows[key]).groupby(level=0, observed=False).mean()
        p = avg["power"].round(3)
        u = avg["util"].round(3)
        energy = (avg["time"] * p).sum() / 1000.0
        print(",".join(map(str, key)) + f",{energy:.3f},{p.mean():.2f},{u.mean():.2f},"
              f"{avg['accuracy'].round(3).iloc[-1]:.3f},{avg['time'].sum():.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Summarises the GPU benchmark outputs of run-all.sh: (a) stat vs direct NVML, (c) square-wave
phases, counter vs power integral, and the step response of the power readings."""
import csv
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])


def phases(rundir):
    return list(csv.DictReader(open(rundir / "phases.csv")))


def samples(rundir, meter="gpu0"):
    return [r for r in csv.DictReader(open(rundir / "samples.csv")) if r["meter"] == meter]


print("== (a) stat phase energy vs a direct NVML counter read in the workload")
for name in sorted(p.name for p in out.glob("a_*") if p.is_dir()):
    rd = out / name
    d = json.load(open(out / (name + "_direct.json")))
    ph = [p for p in phases(rd) if p["phase"] in ("busy", "idle") and p["meter"] == "gpu0"]
    e_stat = sum(float(p["energy_j"]) for p in ph)
    m = json.load(open(rd / "manifest.json"))
    tot = [t for t in m["totals"] if t["meter"] == "gpu0"][0]
    print(f"{name}: direct {d['energy_j']:.1f} J over {d['duration_s']:.2f} s; stat (sum of phases) "
          f"{e_stat:.1f} J; diff {100 * (e_stat - d['energy_j']) / d['energy_j']:+.3f}%; "
          f"whole command {tot['energy_j']:.1f} J (power integral {tot['energy_j_power']:.1f} J)")

print("\n== (c) square waves: per phase, counter vs power integral")
for name in sorted(p.name for p in out.glob("c_*") if p.is_dir()):
    rd = out / name
    ph = [p for p in phases(rd) if p["meter"] == "gpu0" and p["phase"] in ("busy", "idle")]
    for kind in ("busy", "idle"):
        sel = [p for p in ph if p["phase"] == kind]
        ec = sum(float(p["energy_j"]) for p in sel)
        ep = sum(float(p["energy_j_power"]) for p in sel)
        dur = sum(float(p["duration_s"]) for p in sel)
        print(f"{name} {kind:4s}: n={len(sel):3d} time {dur:7.3f} s  counter {ec:9.1f} J "
              f"({ec / dur:6.1f} W)  power-integral {ep:9.1f} J ({ep / dur:6.1f} W)  "
              f"integral/counter {ep / ec if ec else float('nan'):.3f}")
    ph_all = [p for p in phases(rd) if p["meter"] == "gpu0" and p["phase"] == "command"]
    if ph_all:
        p = ph_all[0]
        print(f"{name} whole: counter {float(p['energy_j']):.1f} J  power-integral "
              f"{float(p['energy_j_power']):.1f} J")
    # Step response: time after each busy begin until power_w (and power_instant_w) reaches 90%
    # of the way from the idle level to the busy plateau.
    ss = samples(rd)
    for col in ("power_w", "power_instant_w"):
        pts = [(float(r["t_s"]), float(r[col])) for r in ss if r[col]]
        if not pts:
            continue
        rises = []
        busy = [p for p in ph if p["phase"] == "busy"]
        for p in busy:
            tb, te = float(p["t_begin_s"]), float(p["t_end_s"])
            before = [v for t, v in pts if tb - 0.3 <= t < tb]
            during = [v for t, v in pts if tb <= t <= te]
            if not before or len(during) < 3:
                continue
            lo, hi = sum(before) / len(before), max(during)
            thr = lo + 0.9 * (hi - lo)
            t90 = next((t for t, v in pts if tb <= t <= te and v >= thr), None)
            if t90 is not None:
                rises.append(t90 - tb)
        if rises:
            rises.sort()
            print(f"{name} {col}: 90% rise after busy begins: median {rises[len(rises)//2]*1000:.0f} ms "
                  f"(n={len(rises)}, min {rises[0]*1000:.0f}, max {rises[-1]*1000:.0f})")
    # How often the value changes (update period of each reading)
    for col in ("power_w", "power_instant_w", "energy_j"):
        pts = [(float(r["t_s"]), r[col]) for r in ss if r[col]] if col != "energy_j" else \
            [(float(r["t_s"]), r["energy_j"]) for r in csv.DictReader(open(rd / "samples.csv"))
             if r["meter"] == "gpu0" and r["energy_j"]]
        changes = [pts[i][0] for i in range(1, len(pts)) if pts[i][1] != pts[i - 1][1]]
        if len(changes) > 2:
            gaps = sorted(changes[i] - changes[i - 1] for i in range(1, len(changes)))
            print(f"{name} {col}: value changes every {gaps[len(gaps)//2]*1000:.0f} ms (median, "
                  f"{len(pts)} readings)")

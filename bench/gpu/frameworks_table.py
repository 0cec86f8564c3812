#!/usr/bin/env python3
"""The frameworks-sample table of docs/BENCHMARKS.md from a results folder of
bench/gpu/frameworks-sample.yaml: epoch 2 of each run, counter energy per image with the
estimator's interval, replayed through the library.  Usage, in the folder that holds
frameworks-sample/ (unpacked results.tgz), after
  for d in frameworks-sample/*/; do phase_replay $d > $d/replay.jsonl; done
(phase_replay: cc -O2 -Iinclude -Isrc/lib -Isrc/json -Isrc/list bench/gpu/phase_replay.c src/lib/*.c src/json/*.c src/list/*.c -lpthread -ldl -lm):
  python3 frameworks_table.py > table.md
bench/gpu/session-f.sh does all of it on the GPU machine; bench/gpu/results/README.md off it."""
import json, csv, os, glob
rows=[]
for d in sorted(glob.glob('frameworks-sample/*/')):
    name=os.path.basename(d.rstrip('/'))
    trainer,mode,model,bs,_=name.split('-')
    rep=[json.loads(l) for l in open(d+'replay.jsonl') if l.startswith('{"phase"')]
    ep=[r for r in rep if r['phase']=='epoch' and r['index']==2]
    if not ep: continue
    e=ep[0]
    stored=[r for r in csv.DictReader(open(d+'phases.csv')) if r['phase']=='epoch' and r['index']=='2'][0]
    items=float(stored['items']); t0=float(stored['t_begin_s']); t1=float(stored['t_end_s'])
    util=[float(s['util_pct']) for s in csv.DictReader(open(d+'samples.csv')) if s['util_pct'] and t0<=float(s['t_s'])<=t1]
    rows.append((trainer,mode,model,int(bs),items/e['duration_s'],1e3*e['energy_j']/items,1e3*e['energy_j_lo']/items,1e3*e['energy_j_hi']/items,e['energy_j']/e['duration_s'],sum(util)/len(util) if util else float('nan'),100*(float(stored['energy_j'])/e['energy_j']-1),e['duration_s']))
rows.sort(key=lambda r:(r[2],r[3],r[0],r[1]))
print('| model | batch | trainer | mode | images/s | mJ/image [interval] | avg W | GPU busy % | epoch 2 s | stored vs replay |')
print('|---|---|---|---|---|---|---|---|---|---|')
for r in rows:
    print(f'| {r[2]} | {r[3]} | {r[0]} | {r[1]} | {r[4]:,.0f} | {r[5]:.1f} [{r[6]:.1f}, {r[7]:.1f}] | {r[8]:.0f} | {r[9]:.0f} | {r[11]:.2f} | {r[10]:+.2f}% |')

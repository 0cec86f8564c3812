#!/usr/bin/env python3
"""GPU checks of the native trainer against PyTorch (docs/BENCHMARKS.md, "native trainer").

  native_check.py torch-ref --dataset D --data-dir DIR --init F --batch-size B --lr L
                  --precision fp32|tf32|bf16|fp64 -o OUT.npz
      PyTorch's side of `jb-native-train --check-out`: the same first batch, the eval-mode
      outputs before and after one SGD step, the train-mode logits and loss of the step, and
      every state_dict tensor and gradient after it (keys outputs0, loss0, outputs1, loss1,
      train_logits0, after1/NAME, grad1/NAME), through workloads/pytorch/train.py's own backend.
  native_check.py compare NATIVE.npz TORCH32.npz [TORCH64.npz] [--init F]
      Relative errors max|a - b| / max|b| per tensor (and of the update, after - init), native
      against PyTorch, and both against PyTorch in float64 when given.
  native_check.py curves LOG...        the "epoch N: train loss ..." lines of training logs
  native_check.py energy STAT.json...  per run: epochs' counter energy, mJ per image, images/s,
      from `joulebench stat --json` (epochs 2.. when there are several, else epoch 1)
  native_check.py table EPOCHS.csv     the side-by-side table of `joulebench report`'s epochs.csv
      (experiments/frameworks.yaml): per configuration, over epochs 2.. of every repeat, images/s,
      counter mJ per image and the GPU-busy fraction (NVML utilisation), mean and sd over repeats

Needs numpy (and torch, torchvision for torch-ref).  Prints tables; nothing here is a test.
"""

import argparse
import json
import os
import re
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[0:0] = [_ROOT, os.path.join(_ROOT, "python")]

import numpy as np  # noqa: E402


def torch_ref(a):
    import torch
    import torchvision
    from workloads.common import cli, data, resnet
    from workloads.pytorch.train import TorchBackend

    args = cli.parse_args("pytorch", [
        "--dataset", a.dataset, "--data-dir", a.data_dir, "--model", a.model,
        "--batch-size", str(a.batch_size), "--lr", repr(a.lr), "--init", a.init,
        "--precision", a.precision, "--device", a.device])
    cli.resolve_mode(args, "pytorch")
    ds = data.load(args.data_dir, args.dataset)
    weights = resnet.load_weights(args.init, args.model, ds.num_classes)
    be = TorchBackend(torch, torchvision)
    be.setup(args)
    be.build(ds.num_classes, weights, ds.image_shape)
    bs = args.batch_size
    x, y = ds.train_x[:bs], ds.train_y[:bs]
    out0 = be.to_numpy(be.predict(x)).astype(np.float64)
    seen = {}
    hook = be.model.register_forward_hook(
        lambda m, i, o: seen.__setitem__("logits", o.detach().double().cpu().numpy().copy()))
    loss0 = be.losses_mean([be.train_host(x, y)])
    hook.remove()
    res = {"outputs0": out0, "loss0": np.float64(loss0), "train_logits0": seen["logits"]}
    for k, v in be.model.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            res["after1/" + k] = v.detach().double().cpu().numpy().copy()
    for k, p in be.model.named_parameters():
        res["grad1/" + k] = p.grad.detach().double().cpu().numpy().copy()
    res["outputs1"] = be.to_numpy(be.predict(x)).astype(np.float64)
    res["loss1"] = np.float64(be.losses_mean([be.train_host(x, y)]))
    np.savez(a.output, **res)
    print("torch-ref %s lr %g: loss0 %.6f loss1 %.6f -> %s" % (a.precision, a.lr, loss0,
                                                                res["loss1"], a.output))


def _rel(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    den = np.max(np.abs(b)) if b.size else 0.0
    return float(np.max(np.abs(a - b)) / den) if den > 0 else float(np.max(np.abs(a - b)))


def _load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def compare(a):
    nat = _load(a.native)
    ref = _load(a.torch32)
    r64 = _load(a.torch64) if a.torch64 else None
    init = _load(a.init) if a.init else None
    pairs = [("native-torch", nat, ref)]
    if r64 is not None:
        pairs += [("native-torch64", nat, r64), ("torch-torch64", ref, r64)]
    rows = []
    for label, x, y in pairs:
        row = {"pair": label}
        for k in ("outputs0", "train_logits0", "outputs1"):
            row[k] = _rel(x[k], y[k])
        for k in ("loss0", "loss1"):
            row[k] = abs(float(x[k]) - float(y[k])) / abs(float(y[k]))
        params = [k for k in y if k.startswith("after1/") and not k.endswith(
            ("running_mean", "running_var"))]
        stats = [k for k in y if k.endswith(("running_mean", "running_var"))]
        grads = [k for k in y if k.startswith("grad1/")]
        pe = sorted(((_rel(x[k], y[k]), k) for k in params), reverse=True)
        se = sorted(((_rel(x[k], y[k]), k) for k in stats), reverse=True)
        ge = sorted(((float(np.linalg.norm(x[k] - y[k]) / max(np.linalg.norm(y[k]), 1e-30)), k)
                     for k in grads), reverse=True)
        row["params_max"] = pe[0]
        if init is not None:
            # Zero-initialised tensors (batch-norm biases) after one step are -lr * gradient:
            # their relative error is the gradient's, whatever the lr.
            nz = [(e, k) for e, k in pe if np.any(init.get(k[len("after1/"):], 0) != 0)]
            z = [(e, k) for e, k in pe if not np.any(init.get(k[len("after1/"):], 0) != 0)]
            row["params_nonzero_init_max"] = nz[0] if nz else (float("nan"), "-")
            row["params_zero_init_max"] = z[0] if z else (float("nan"), "-")
        row["stats_max"] = se[0]
        row["grad_l2_max"] = ge[0]
        row["grad_l2_median"] = float(np.median([e for e, _ in ge]))
        if init is not None:
            ue = []
            for k in params:
                name = k[len("after1/"):]
                if name in init:
                    du_y = y[k] - init[name].astype(np.float64)
                    du_x = x[k] - init[name].astype(np.float64)
                    if np.max(np.abs(du_y)) > 0:
                        ue.append((_rel(du_x, du_y), name))
            ue.sort(reverse=True)
            row["update_max"] = ue[0] if ue else (float("nan"), "-")
        rows.append(row)
    for row in rows:
        print("%-15s outputs0 %.2e  train_logits0 %.2e  loss0 %.2e  outputs1 %.2e  loss1 %.2e"
              % (row["pair"], row["outputs0"], row["train_logits0"], row["loss0"],
                 row["outputs1"], row["loss1"]))
        print("%-15s params after step: max rel %.2e (%s); running stats max rel %.2e (%s)"
              % ("", row["params_max"][0], row["params_max"][1], row["stats_max"][0],
                 row["stats_max"][1]))
        print("%-15s gradients: rel L2 max %.2e (%s), median %.2e"
              % ("", row["grad_l2_max"][0], row["grad_l2_max"][1], row["grad_l2_median"]))
        if "params_nonzero_init_max" in row:
            print("%-15s params after step: nonzero-init tensors max rel %.2e (%s); zero-init "
                  "(BN biases) max rel %.2e (%s)"
                  % ("", row["params_nonzero_init_max"][0], row["params_nonzero_init_max"][1],
                     row["params_zero_init_max"][0], row["params_zero_init_max"][1]))
        if "update_max" in row:
            print("%-15s update (after - init): max rel %.2e (%s)"
                  % ("", row["update_max"][0], row["update_max"][1]))
    return rows


EPOCH_RE = re.compile(r"epoch (\d+): train loss ([0-9.naninf]+), test loss ([0-9.naninf]+), "
                      r"accuracy ([0-9.naninf]+)")


def curves(a):
    for path in a.logs:
        with open(path, errors="replace") as f:
            eps = EPOCH_RE.findall(f.read())
        print("%-40s %s" % (os.path.basename(path), "  ".join(
            "e%s: loss %s acc %s (test loss %s)" % (e, tl, acc, te) for e, tl, te, acc in eps)))


def _busy(base, eps):
    """Mean NVML utilisation (percent of time a kernel ran) over the epochs, from the run
    directory's samples.csv and phases.csv copied beside the JSON; None without them."""
    import csv
    try:
        with open(base + ".phases.csv") as f:
            win = [(float(r["t_begin_s"]), float(r["t_end_s"])) for r in csv.DictReader(f)
                   if r["phase"] == "epoch" and r["meter"].startswith("gpu")
                   and int(r["index"]) in {p["index"] for p in eps}]
        with open(base + ".samples.csv") as f:
            u = [float(r["util_pct"]) for r in csv.DictReader(f)
                 if r["meter"].startswith("gpu") and r["util_pct"] not in ("", None)
                 and any(b <= float(r["t_s"]) <= e for b, e in win)]
    except (OSError, KeyError, ValueError):
        return None
    return sum(u) / len(u) if u else None


def energy(a):
    print("%-44s %7s %9s %9s %8s %6s" % ("run", "epochs", "img/s", "mJ/img", "avg W", "busy%"))
    for path in a.files:
        try:
            with open(path) as f:
                res = json.load(f)
        except (OSError, ValueError) as e:
            print("%-44s unreadable: %s" % (os.path.basename(path), e))
            continue
        eps = [p for p in res.get("phases", []) if p["phase"] == "epoch"
               and p.get("meter", "gpu0").startswith("gpu")]
        if len(eps) > 1:
            eps = [p for p in eps if p.get("index") != 1]
        if not eps:
            print("%-44s no epochs (exit %s)" % (os.path.basename(path), res.get("exit_status")))
            continue
        t = sum(p["duration_s"] for p in eps)
        e = sum(p["energy_j"] for p in eps if p.get("energy_j") is not None)
        n = sum(p.get("items") or 0 for p in eps)
        busy = _busy(path[:-5] if path.endswith(".json") else path, eps)
        print("%-44s %7s %9.0f %9.2f %8.1f %6s" % (
            os.path.basename(path), ",".join(str(p["index"]) for p in eps), n / t,
            1000.0 * e / n, e / t, "-" if busy is None else "%.0f" % busy))


def table(a):
    import csv
    import statistics
    with open(a.epochs) as f:
        rows = list(csv.DictReader(f))
    levels = []
    for k in (rows[0].keys() if rows else []):
        if k == "run_id":
            break
        levels.append(k)
    per_run = {}
    for r in rows:
        if int(r["epoch"]) < 2 or not r["items"] or not r["energy_j"]:
            continue
        key = tuple(r[k] for k in levels)
        acc = per_run.setdefault(key, {}).setdefault(r["run_id"], [0.0, 0.0, 0.0, 0.0, 0])
        acc[0] += float(r["duration_s"])
        acc[1] += float(r["energy_j"])
        acc[2] += float(r["items"])
        if r["gpu_util_pct"]:
            acc[3] += float(r["gpu_util_pct"]) * float(r["duration_s"])
        acc[4] += 1

    def ms(v):
        return "%.1f" % v[0] if len(v) < 2 else "%.1f +- %.1f" % (statistics.mean(v),
                                                                   statistics.stdev(v))
    print("| " + " | ".join(levels) + " | runs | img/s | mJ/img | GPU busy % |")
    print("|" + "---|" * (len(levels) + 4))
    for key in sorted(per_run, key=lambda k: tuple(int(x) if x.isdigit() else x for x in k)):
        runs = per_run[key].values()
        ips = [n / t for t, e, n, u, c in runs]
        mj = [1000 * e / n for t, e, n, u, c in runs]
        busy = [u / t for t, e, n, u, c in runs if u > 0]
        print("| " + " | ".join(key) + " | %d | %s | %s | %s |" % (
            len(ips), ms([round(x) for x in ips]).replace(".0", ""), ms(mj),
            ms(busy) if busy else "-"))


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench/gpu/native_check.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("torch-ref")
    r.add_argument("--dataset", required=True)
    r.add_argument("--data-dir", default="data")
    r.add_argument("--model", default="resnet50")
    r.add_argument("--init", required=True)
    r.add_argument("--batch-size", type=int, default=128)
    r.add_argument("--lr", type=float, default=0.001)
    r.add_argument("--precision", default="fp32")
    r.add_argument("--device", default="cuda")
    r.add_argument("-o", "--output", required=True)
    c = sub.add_parser("compare")
    c.add_argument("native")
    c.add_argument("torch32")
    c.add_argument("torch64", nargs="?")
    c.add_argument("--init")
    cu = sub.add_parser("curves")
    cu.add_argument("logs", nargs="+")
    en = sub.add_parser("energy")
    en.add_argument("files", nargs="+")
    tb = sub.add_parser("table")
    tb.add_argument("epochs")
    a = p.parse_args(argv)
    {"torch-ref": torch_ref, "compare": compare, "curves": curves, "energy": energy,
     "table": table}[a.cmd](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())

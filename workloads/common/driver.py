"""The training loop every framework runs, so that only the framework differs between runs.

The driver owns what must be identical across frameworks: the data set and its checks, the
initial weights, the order of the training images (one numpy permutation per epoch drawn from
--seed), the batches (the last one may be smaller; nothing is dropped), the evaluation on the test
set after each epoch, the metrics, and the phase marks (startup, epoch i, eval i) with the device
synchronised before each mark.  A backend (one per framework, in workloads/<fw>/) builds the model
and does one training step or one forward pass on a batch; it never sees the loop.

Backend interface (duck-typed):
  name, version, device_name        strings for the info event
  outputs_are_probs                 True when predict() returns softmax probabilities
  setup(args)                       device and precision flags; before anything else
  build(num_classes, weights, image_shape)
                                    weights: OrderedDict torchvision name -> array, or None for
                                    the framework's own initialisation (--impl stock);
                                    image_shape (H, W, C)
  put_data(train_x, train_y)        --data-on-device: copy the arrays once
  warm_up(train_sizes, eval_sizes)  compile what can be compiled ahead (batch sizes given)
  train_host(x_u8, y) -> loss       one SGD step on host arrays; loss stays on the device
  train_device(idx) -> loss         the same on the copied data, batch = rows idx
  predict(x_u8) -> outputs          eval-mode forward; device array
  to_numpy(outputs) -> np.ndarray
  losses_mean(list of loss) -> float
  sync()                            wait until the device has finished the queued work
  extra_info() -> dict              framework-specific facts (flags, library versions)

Data parallel (--ddp, optional attributes; a backend without them is one process):
  rank, world_size                  this process's rank and the number of processes
  allgather(obj) -> list            every rank's obj, on every rank
  sync_buffers()                    rank 0's buffers (batch-norm statistics) to every rank
  ddp_info() -> dict                world size, GPU list... for a second info event
  close()                           leave the process group
With world size W the training batches are global batches of W x --batch-size images of the one
epoch order (the same on every rank, drawn from --seed); rank r trains on the r-th of W equal
parts of each (np.array_split; a last global batch smaller than 2 W images is left out, since
a part of one image cannot be batch-normalised).  Every rank reads and checks the whole data set,
so all ranks see the same bytes.  Evaluation: rank r predicts test batches r, r + W, ...; the
outputs are gathered and the metrics computed on the whole test set.  sync() is then a barrier
too, and it is called on every rank before each phase mark (the client itself calls it only
where it writes, rank 0).  Only rank 0 writes phases, metrics and info (the other ranks have no
JOULEBENCH_FD) and prints progress; `items` counts the images of all ranks.
"""

import contextlib
import sys

import numpy as np

import joulebench as jb
from workloads.common import cli, data, metrics, resnet


def batches(n, batch_size, training=False):
    """(start, end) of each batch; the last one may be smaller.  In training a last batch of one
    image is left out in every framework: batch norm cannot normalise a single value per channel
    (PyTorch refuses it once the feature map is 1x1, as ResNet's last stage is on 32x32 images)."""
    out = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if training and len(out) > 1 and out[-1][1] - out[-1][0] == 1:
        out.pop()
    return out


def _sizes(bounds):
    return sorted({e - s for s, e in bounds})


def global_batches(n, batch_size, world):
    """Training batches of world x batch_size images; one process: batches(training=True)."""
    out = batches(n, batch_size * world, training=True)
    if world > 1 and len(out) > 1 and out[-1][1] - out[-1][0] < 2 * world:
        out.pop()
    return out


def shard(idx, rank, world):
    """Rank `rank`'s part of one global batch (all of it for one process)."""
    return idx if world == 1 else np.array_split(idx, world)[rank]


@contextlib.contextmanager
def _phase(name, index, sync):
    """jb.phase with sync() called on every rank before both marks (a barrier under --ddp); on
    an exception the end mark is written without it, as jb.phase does."""
    sync()
    with jb.phase(name, index) as ph:
        yield ph
        sync()


def _write_params(args, backend):
    path = args.params_out
    if getattr(backend, "world_size", 1) > 1 or args.ddp:
        root, ext = (path[:-4], ".npz") if path.endswith(".npz") else (path, ".npz")
        path = "%s.rank%d%s" % (root, backend.rank, ext)
    arrays = {"init/" + k: v for k, v in backend.init_state.items()}
    arrays.update({"final/" + k: v for k, v in backend.state_arrays().items()})
    np.savez(path, **arrays)


def _weights(args, framework, num_classes):
    if args.impl == "stock":
        if args.init:
            cli.fail(framework, "--init FILE applies to --impl matched only: a stock model "
                                "keeps its framework's own initialisation")
        return None
    if args.init:
        try:
            return resnet.load_weights(args.init, args.model, num_classes)
        except resnet.WeightsError as e:
            cli.fail(framework, str(e))
    return resnet.init_weights(args.model, num_classes, args.seed)


def _check(args, backend, ds):
    """--check-out: outputs and losses around one SGD step on the first batch; no phases."""
    bs = min(args.batch_size, len(ds.train_y))
    x, y = ds.train_x[:bs], ds.train_y[:bs]
    out0 = backend.to_numpy(backend.predict(x))
    loss0 = backend.losses_mean([backend.train_host(x, y)])
    out1 = backend.to_numpy(backend.predict(x))
    loss1 = backend.losses_mean([backend.train_host(x, y)])
    np.savez(args.check_out, outputs0=out0, loss0=np.float64(loss0), outputs1=out1,
             loss1=np.float64(loss1), probs=np.bool_(backend.outputs_are_probs))
    print("check: loss before step %.6f, after %.6f -> %s" % (loss0, loss1, args.check_out))


def main(args, make_backend, framework):
    """Runs one training job; the caller has already written begin('startup').

    The data set and the weights are checked before make_backend() imports the framework, so
    that bad input is refused at once (exit 2) and never after any training.
    """
    fw = framework
    cli.resolve_mode(args, fw)
    try:
        ds = data.load(args.data_dir, args.dataset, args.limit_train, args.limit_test)
    except data.DataError as e:
        cli.fail(fw, str(e))
    n_train, n_test = len(ds.train_y), len(ds.test_y)
    if args.batch_size < 2:
        cli.fail(fw, "--batch-size must be at least 2: batch norm cannot train on one image")
    if args.batch_size > n_train:
        cli.fail(fw, "--batch-size %d is larger than the %d training images of '%s'%s"
                 % (args.batch_size, n_train, args.dataset,
                    " (after --limit-train)" if args.limit_train else ""))
    if n_test == 0:
        cli.fail(fw, "data set '%s' has no test images: nothing to evaluate" % args.dataset)
    weights = _weights(args, fw, ds.num_classes)
    backend = make_backend()
    backend.setup(args)
    try:
        return _train(args, backend, ds, weights)
    finally:
        if hasattr(backend, "close"):
            backend.close()


def _train(args, backend, ds, weights):
    fw = backend.name
    sync = backend.sync
    rank, world = getattr(backend, "rank", 0), getattr(backend, "world_size", 1)
    lead = rank == 0
    n_train, n_test = len(ds.train_y), len(ds.test_y)
    if args.batch_size * world > n_train:
        cli.fail(fw, "--ddp: the global batch %d x %d is larger than the %d training images"
                 % (args.batch_size, world, n_train))
    backend.build(ds.num_classes, weights, ds.image_shape)
    del weights
    if args.data_on_device:
        backend.put_data(ds.train_x, ds.train_y)
    train_bounds = global_batches(n_train, args.batch_size, world)
    test_bounds = batches(n_test, args.batch_size)
    n_trained = train_bounds[-1][1]
    local_sizes = sorted({len(shard(np.arange(e - s), rank, world)) for s, e in train_bounds})
    backend.warm_up(local_sizes, _sizes(test_bounds))
    info = {
        "framework": fw, "framework_version": backend.version, "device": backend.device_name,
        "precision": args.precision, "impl": args.impl, "model": args.model,
        "dataset": args.dataset, "batch_size": args.batch_size, "epochs": args.epochs,
        "lr": args.lr, "momentum": args.momentum, "seed": args.seed,
        "init": args.init if args.init else ("seed" if args.impl == "matched" else "framework"),
        "shuffle": args.shuffle, "input_scale": "raw" if args.raw_pixels else "1/255",
        "num_classes": ds.num_classes, "train_images": n_train, "test_images": n_test,
        "data_on_device": args.data_on_device, "compile": args.compile, "mode": args.mode,
        "channels_last": args.channels_last,
    }
    info.update(backend.extra_info())
    jb.info(info)
    if args.ddp:
        jb.info(backend.ddp_info())  # a collective: every rank calls it
    if lead:
        print("%s %s on %s: %s %s, %s, %d train / %d test images, %d classes, batch %d%s, %s"
              % (fw, backend.version, backend.device_name, args.impl, args.model, args.dataset,
                 n_train, n_test, ds.num_classes, args.batch_size,
                 " x %d ranks" % world if args.ddp else "", args.precision), flush=True)
    if args.check_out:
        jb.end("startup", sync=sync)
        _check(args, backend, ds)
        return 0
    sync()
    jb.end("startup")

    rng = np.random.Generator(np.random.PCG64(args.seed))
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(n_train) if args.shuffle else np.arange(n_train)
        losses = []
        with _phase("epoch", epoch, sync) as ph:
            for s, e in train_bounds:
                idx = shard(order[s:e], rank, world)
                if args.data_on_device:
                    losses.append(backend.train_device(idx))
                else:
                    losses.append(backend.train_host(ds.train_x[idx], ds.train_y[idx]))
            ph.items = n_trained
        train_loss = backend.losses_mean(losses)
        if world > 1:  # the mean over every rank's batches
            parts = backend.allgather((train_loss, len(losses)))
            train_loss = sum(m * n for m, n in parts) / sum(n for _, n in parts)
        jb.metric("epoch", epoch, loss=train_loss)
        if world > 1:
            backend.sync_buffers()
        with _phase("eval", epoch, sync) as ph:
            outs = [(b, backend.predict(ds.test_x[s:e]))
                    for b, (s, e) in enumerate(test_bounds) if b % world == rank]
            mine = [(b, backend.to_numpy(o)) for b, o in outs]
            if world > 1:
                mine = sorted((p for part in backend.allgather(mine) for p in part),
                              key=lambda p: p[0])
            outputs = np.concatenate([o for _, o in mine], axis=0)
            res = metrics.evaluate(outputs, ds.test_y, backend.outputs_are_probs)
            ph.items = n_test
        jb.metric("eval", epoch, res)
        if lead:
            print("epoch %d: train loss %.4f, test loss %.4f, accuracy %.4f, precision %.4f, "
                  "recall %.4f, f1 %.4f" % (epoch, train_loss, res["loss"], res["accuracy"],
                                            res["precision"], res["recall"], res["f1"]),
                  flush=True)
        sys.stdout.flush()
    if args.params_out:
        _write_params(args, backend)
    return 0

"""The one command line of every workload (DESIGN.md section 7), and its error convention.

Standard library only, so that a bad command line is rejected before any framework is imported.
Usage errors exit 2 (argparse's own convention and joulebench's); so does any bad input found
before training starts (data set, weights file), through `fail()`.  This module does not train.
"""

import argparse
import sys

MODELS = ("resnet50", "resnet101", "resnet152")
PRECISIONS = ("fp32", "tf32", "bf16", "fp64")
IMPLS = ("matched", "stock")
DEVICES = ("auto", "cpu", "cuda")
MODES = ("eager", "compiled", "graph")
# The modes each framework has, its default first (native: workloads/native, C, its own parser).
FRAMEWORK_MODES = {"pytorch": ("eager", "compiled", "graph"), "tensorflow": ("eager", "compiled"),
                   "jax": ("compiled",)}

EXIT_USAGE = 2


def _positive_int(text):
    try:
        v = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not an integer" % text) from None
    if v < 1:
        raise argparse.ArgumentTypeError("'%s' must be >= 1" % text)
    return v


def _nonneg_int(text):
    try:
        v = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not an integer" % text) from None
    if v < 0:
        raise argparse.ArgumentTypeError("'%s' must be >= 0" % text)
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a number" % text) from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError("'%s' must be a finite number > 0" % text)
    return v


def _momentum(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a number" % text) from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError("'%s' must be in [0, 1)" % text)
    return v


def parser(framework):
    p = argparse.ArgumentParser(
        prog="workloads/%s/train.py" % framework,
        description="Train a ResNet with %s on a prepared data set, marking phases for "
                    "joulebench (JOULEBENCH_FD).  Defaults follow the reference study." % framework)
    p.add_argument("--dataset", required=True,
                   help="data set name: the folder DATA-DIR/NAME made by 'joulebench data'")
    p.add_argument("--data-dir", default="data", help="folder holding data sets (default: data)")
    p.add_argument("--model", default="resnet50", choices=MODELS, help="default: resnet50")
    p.add_argument("--batch-size", type=_positive_int, default=128, help="default: 128")
    p.add_argument("--epochs", type=_positive_int, default=10, help="default: 10")
    p.add_argument("--lr", type=_positive_float, default=0.001,
                   help="SGD learning rate (default: 0.001)")
    p.add_argument("--momentum", type=_momentum, default=0.9, help="SGD momentum (default: 0.9)")
    p.add_argument("--seed", type=_nonneg_int, default=1,
                   help="seed of the initial weights (without --init) and of the shuffling "
                        "order (default: 1)")
    p.add_argument("--init", metavar="FILE",
                   help="initial weights, .npz with torchvision names (export_init.py); "
                        "default: drawn from --seed, the same in every framework")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="fp32: IEEE float32, TF32 off; tf32: TF32 tensor cores allowed; "
                        "bf16: mixed precision; fp64: float64 everywhere, for equivalence "
                        "tests (default: fp32)")
    p.add_argument("--impl", default="matched", choices=IMPLS,
                   help="matched: torchvision's ResNet rebuilt in this framework from the shared "
                        "weights; stock: the framework's own model as the study used it "
                        "(default: matched)")
    p.add_argument("--limit-train", type=_positive_int, metavar="N",
                   help="use the first N training images")
    p.add_argument("--limit-test", type=_positive_int, metavar="N",
                   help="use the first N test images")
    p.add_argument("--channels-last", action="store_true",
                   help="PyTorch: channels-last memory format (JAX and TensorFlow are NHWC "
                        "already)")
    p.add_argument("--compile", action="store_true",
                   help="the same as --mode compiled")
    p.add_argument("--mode", choices=MODES,
                   help="eager: one framework call per operation (PyTorch's and TensorFlow's "
                        "default); compiled: PyTorch torch.compile (mode reduce-overhead: CUDA "
                        "graphs where they apply), TensorFlow XLA (jit_compile), JAX jit (its "
                        "only mode); graph: PyTorch only, the whole training step (gather, "
                        "forward, loss, backward, SGD) captured once as a CUDA graph and "
                        "replayed (needs a GPU and --data-on-device)")
    p.add_argument("--data-on-device", action="store_true",
                   help="copy the whole data set to the device once (default: each batch "
                        "is sliced on the host and copied)")
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=True,
                   help="shuffle the training set each epoch, the same order in every framework "
                        "(default: on)")
    p.add_argument("--raw-pixels", action="store_true",
                   help="feed pixel values 0..255 as the study's scripts did (default: scaled "
                        "to [0, 1] on the device)")
    p.add_argument("--device", default="auto", choices=DEVICES,
                   help="auto: the GPU if there is one (default: auto)")
    p.add_argument("--ddp", action="store_true",
                   help="PyTorch only: data-parallel training with torch.distributed, one "
                        "process per GPU (NCCL; gloo with --device cpu); --batch-size is per "
                        "process, the global batch is batch size x world size; phases and "
                        "metrics come from rank 0 only.  Started by the workload's own launcher "
                        "(--nproc-per-node) or by torchrun (then phase marks are lost: torchrun "
                        "closes inherited descriptors)")
    p.add_argument("--nproc-per-node", type=_positive_int, metavar="N",
                   help="with --ddp: processes (GPUs) to start on this node (default: the "
                        "visible GPUs; 1 with --device cpu)")
    p.add_argument("--params-out", metavar="FILE",
                   help="testing: write the parameters and buffers after the initialisation "
                        "(init/NAME) and after training (final/NAME) to FILE (.npz); with --ddp "
                        "one file per rank, FILE.rank<R>.npz")
    p.add_argument("--check-out", metavar="FILE",
                   help="testing: instead of training, write to FILE (.npz) the outputs on the "
                        "first batch, one SGD step's loss, the outputs and loss after it, and "
                        "exit")
    return p


def parse_args(framework, argv=None):
    args = parser(framework).parse_args(argv)
    if framework != "pytorch":
        for opt, given in (("--ddp", args.ddp), ("--nproc-per-node", args.nproc_per_node),
                           ("--params-out", args.params_out)):
            if given:
                fail(framework, "%s: data-parallel training and --params-out are implemented "
                                "for PyTorch only" % opt)
    return args


def resolve_mode(args, framework):
    """Sets args.mode (the framework's default when not given) and args.compile from --mode and
    --compile; exits 2 for a mode the framework does not have."""
    modes = FRAMEWORK_MODES[framework]
    mode = args.mode
    if args.compile:
        if mode not in (None, "compiled"):
            fail(framework, "--compile is --mode compiled; it cannot be combined with --mode %s"
                 % mode)
        mode = "compiled"
    if mode is None:
        mode = modes[0]
    if mode not in modes:
        fail(framework, "--mode %s: %s has %s" % (
            mode, framework, " and ".join("--mode " + m for m in modes)
            + (" only (it always compiles with XLA)" if framework == "jax" else "")))
    args.mode = mode
    args.compile = mode == "compiled"
    return mode


def fail(framework, message, code=EXIT_USAGE):
    """Prints 'workloads/<fw>/train.py: error: <message>' on stderr and exits (2: bad input)."""
    sys.stderr.write("workloads/%s/train.py: error: %s\n" % (framework, message))
    sys.stderr.flush()
    raise SystemExit(code)

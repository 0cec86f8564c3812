"""joulebench - the workload side of the phase protocol (DESIGN.md section 3).

A training script marks its phases (startup, epoch i, eval i), reports metrics and describes
itself; the runner (`joulebench stat` / `joulebench run`) reads those lines from the pipe it passed
as JOULEBENCH_FD and attributes energy to each phase.  Pure Python, no dependencies.  Without
JOULEBENCH_FD every call does nothing, so a workload runs standalone unchanged.

    import joulebench as jb
    jb.info(framework="pytorch", framework_version=torch.__version__)
    with jb.phase("epoch", 1, sync=torch.cuda.synchronize) as p:
        ...train...
        p.items = n_images
    jb.metric("eval", 1, accuracy=0.51, loss=1.37)

The phase functions measure nothing and do not talk to libjoulebench; they only write lines.  A
write that fails (reader gone: EPIPE; fd closed: EBADF) disables the client with one warning on
stderr; the workload goes on.

In-process measurement is the other half of the package: joulebench.Monitor measures windows of
this program itself through libjoulebench (ctypes; the library is loaded when the first Monitor
is made, so importing joulebench needs nothing but Python):

    mon = jb.Monitor(meters="auto", sync=torch.cuda.synchronize)
    with mon.window("train") as w:
        ...train...
    print(w.measurement.energy_j)        # {"gpu0": 1234.5}
"""

from joulebench.client import Client, Phase, default_client
from joulebench.monitor import (JoulebenchError, LibraryNotFoundError, Measurement, MeterInfo,
                                Monitor, PendingMeasurement, Window, WindowError)

__version__ = "0.1.0"

__all__ = ["Client", "Phase", "phase", "begin", "end", "metric", "info", "enabled",
           "default_client", "Monitor", "Measurement", "PendingMeasurement", "Window",
           "MeterInfo", "JoulebenchError", "WindowError", "LibraryNotFoundError", "__version__"]


def enabled():
    """True when JOULEBENCH_FD names a usable descriptor and no write has failed yet."""
    return default_client().enabled


def phase(name, index=None, items=None, sync=None):
    """Context manager marking a phase: begin on entry, end on exit (also on an exception).

    `items` (e.g. images trained) may be set inside the block through the returned object's
    `items` attribute.  `sync` (e.g. torch.cuda.synchronize) is called before each mark, so that
    the timestamps bound the device's work, not just the host's.
    """
    return default_client().phase(name, index, items=items, sync=sync)


def begin(name, index=None, sync=None):
    """Writes a begin line for phase `name` (index optional)."""
    default_client().begin(name, index, sync=sync)


def end(name, index=None, items=None, sync=None):
    """Writes an end line for phase `name`; `items` is the work done (non-negative number)."""
    default_client().end(name, index, items=items, sync=sync)


def metric(phase_name, index, values=None, **kw):
    """Writes metric values for a phase: metric("eval", 1, accuracy=0.5) or with a dict."""
    default_client().metric(phase_name, index, values, **kw)


def info(values=None, **kw):
    """Writes run information (framework, versions, device...): info(framework="jax")."""
    default_client().info(values, **kw)

"""joulebench.client - writer of phase-protocol lines on a file descriptor.

Turns calls into one JSON object per line, exactly as DESIGN.md section 3 defines them, and writes
each line with os.write at once (no buffering: the runner timestamps nothing itself, but a line
held in a buffer would reach it late or, on a crash, never).  It knows nothing about frameworks:
device synchronisation is the caller's `sync` callable.  It is not a parser and not a measurer.
Its C twin, for C/C++/CUDA workloads, is libjoulebench's jb_client_* (include/joulebench.h,
src/lib/client.c): the same lines, the same limits, the same failure policy.

Failure policy: the protocol must never stop the workload.  A failed write (EPIPE when the runner
is gone, EBADF when the fd was closed, any other OSError) disables the client for good and prints
one warning on stderr.  Wrong arguments (an empty phase name, a non-integer index) are the
caller's bug and raise ValueError/TypeError, with or without a runner, so that they show up in a
standalone run too.
"""

import json
import math
import os
import sys
import threading
import time

ENV_VAR = "JOULEBENCH_FD"

# Limits of the runner's parser (include/joulebench.h): longer names are rejected there.
MAX_PHASE_BYTES = 31
MAX_VALUE_NAME_BYTES = 63
MAX_VALUES = 32
_INDEX_MAX = 2147483647


def _warn(msg):
    try:
        sys.stderr.write("joulebench: warning: %s\n" % msg)
        sys.stderr.flush()
    except Exception:  # stderr itself may be gone; nothing more to do
        pass


def _check_phase(name):
    if not isinstance(name, str):
        raise TypeError("phase name must be a str, not %s" % type(name).__name__)
    if not name or len(name.encode("utf-8")) > MAX_PHASE_BYTES:
        raise ValueError("phase name %r must be 1 to %d bytes" % (name, MAX_PHASE_BYTES))
    return name


def _check_index(index):
    if index is None:
        return None
    if isinstance(index, bool) or not hasattr(index, "__index__"):
        raise TypeError("phase index must be an integer, not %s" % type(index).__name__)
    index = int(index.__index__())
    if not -_INDEX_MAX <= index <= _INDEX_MAX:
        raise ValueError("phase index %d out of range" % index)
    return index


def _check_items(items):
    if items is None:
        return None
    if isinstance(items, bool):
        raise TypeError("items must be a number, not bool")
    if hasattr(items, "item") and not isinstance(items, (int, float)):
        items = items.item()  # numpy / torch scalars
    if not isinstance(items, (int, float)):
        raise TypeError("items must be a number, not %s" % type(items).__name__)
    if (isinstance(items, float) and not math.isfinite(items)) or items < 0:
        raise ValueError("items must be a finite non-negative number, got %r" % (items,))
    return items


def _plain_value(v):
    """A JSON-safe scalar: numbers, strings, booleans; NaN/inf become null (unavailable)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if hasattr(v, "item"):  # numpy, torch, jax scalars
        try:
            return _plain_value(v.item())
        except (TypeError, ValueError):
            pass
    return str(v)


def _check_values(values, kw):
    merged = {}
    if values is not None:
        if not hasattr(values, "items"):
            raise TypeError("values must be a mapping, not %s" % type(values).__name__)
        merged.update(values)
    merged.update(kw)
    if not merged:
        raise ValueError("no values given")
    if len(merged) > MAX_VALUES:
        raise ValueError("%d values given; at most %d per line" % (len(merged), MAX_VALUES))
    out = {}
    for k, v in merged.items():
        if not isinstance(k, str) or not k or len(k.encode("utf-8")) > MAX_VALUE_NAME_BYTES:
            raise ValueError("value name %r must be a str of 1 to %d bytes"
                             % (k, MAX_VALUE_NAME_BYTES))
        out[k] = _plain_value(v)
    return out


class Phase:
    """What `with client.phase(...) as p` returns; set `p.items` inside the block."""

    def __init__(self, client, name, index, items, sync):
        self._client = client
        self.name = _check_phase(name)
        self.index = _check_index(index)
        self.items = _check_items(items)
        self._sync = sync

    def __enter__(self):
        self._client.begin(self.name, self.index, sync=self._sync)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._client.end(self.name, self.index, items=self.items, sync=self._sync)
            return False
        # The block failed: still close the phase so that the runner can account for it, but do
        # not let a failing sync (the device may be what failed) hide the original exception.
        try:
            self._client.end(self.name, self.index, items=self.items, sync=self._sync)
        except Exception as e:  # noqa: BLE001
            _warn("phase %r: end mark after an error failed too: %s" % (self.name, e))
        return False


class Client:
    """Writes protocol lines on `fd`; with fd None, a no-op client.

    Thread-safe: one lock serialises the writes, so lines from several threads never interleave.
    """

    def __init__(self, fd=None):
        self._fd = fd
        self._lock = threading.Lock()
        self._enabled = fd is not None

    @classmethod
    def from_env(cls, environ=None):
        """A client on $JOULEBENCH_FD; a no-op one if it is unset, empty or unusable."""
        env = os.environ if environ is None else environ
        raw = env.get(ENV_VAR)
        if raw is None or raw.strip() == "":
            return cls(None)
        try:
            fd = int(raw.strip(), 10)
            if fd < 0:
                raise ValueError
        except ValueError:
            _warn("%s=%r is not a file descriptor number; phase marks disabled" % (ENV_VAR, raw))
            return cls(None)
        try:
            os.fstat(fd)
        except OSError as e:
            _warn("%s=%d: %s; phase marks disabled" % (ENV_VAR, fd, e.strerror))
            return cls(None)
        return cls(fd)

    @property
    def enabled(self):
        return self._enabled

    def _write(self, obj):
        if not self._enabled:
            return
        data = (json.dumps(obj, separators=(",", ":"), allow_nan=False,
                           ensure_ascii=True) + "\n").encode("ascii")
        with self._lock:
            if not self._enabled:
                return
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self._fd, view)
                    view = view[n:]
            except OSError as e:
                self._enabled = False
                why = "the runner has gone" if isinstance(e, BrokenPipeError) else e.strerror
                _warn("cannot write phase marks to fd %d: %s; phase marks disabled for the rest "
                      "of this run" % (self._fd, why))

    def _mark(self, event, name, index, items, sync):
        name = _check_phase(name)
        index = _check_index(index)
        items = _check_items(items)
        if not self._enabled:
            return
        if sync is not None:
            sync()
        obj = {"t": time.monotonic_ns(), "event": event, "phase": name}
        if index is not None:
            obj["index"] = index
        if items is not None:
            obj["items"] = items
        self._write(obj)

    def begin(self, name, index=None, sync=None):
        self._mark("begin", name, index, None, sync)

    def end(self, name, index=None, items=None, sync=None):
        self._mark("end", name, index, items, sync)

    def phase(self, name, index=None, items=None, sync=None):
        return Phase(self, name, index, items, sync)

    def metric(self, phase_name, index, values=None, **kw):
        name = _check_phase(phase_name)
        index = _check_index(index)
        vals = _check_values(values, kw)
        obj = {"t": time.monotonic_ns(), "event": "metric", "phase": name}
        if index is not None:
            obj["index"] = index
        obj["values"] = vals
        self._write(obj)

    def info(self, values=None, **kw):
        self._write({"event": "info", "values": _check_values(values, kw)})


_default = None
_default_lock = threading.Lock()


def default_client():
    """The process's client, made from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client.from_env()
        return _default


def _reset_default(client=None):
    """For tests: forget (or replace) the process's client."""
    global _default
    with _default_lock:
        _default = client

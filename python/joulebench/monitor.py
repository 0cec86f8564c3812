"""joulebench.monitor - energy of windows of your own program, measured in-process.

    from joulebench import Monitor
    mon = Monitor(meters="auto", interval_ms=100, sync=torch.cuda.synchronize)
    mon.begin_window("train")
    train()
    m = mon.end_window("train")     # Measurement(time_s, energy_j per meter, source, simulated)
    with mon.window("eval") as w:
        evaluate()
    print(w.measurement)

    @mon.measure("step")
    def step(batch): ...

A Monitor is libjoulebench's monitor (jb_monitor_*, include/joulebench.h) through ctypes: the
same meters, sampler and estimator as `joulebench stat`, so a window gets what stat gives a phase:
the counter-anchored energy, an interval that holds it, the power integral, flags.  Windows have
names; windows of different names nest and overlap freely (as Zeus's ZeusMonitor windows do).

A window's result needs counter readings past its end: ~100-200 ms on NVML (its counter moves
every 100 ms), about one interval on RAPL and exact simulated meters.  end_window(name) waits for
it; end_window(name, wait=False) returns at once with a PendingMeasurement whose result() waits
later.  The waits run in the library with the GIL released, and the library's sampler threads are
C threads that never take the GIL.

It is not the protocol client (joulebench.phase & co., joulebench.client): that one writes
phase marks for a runner in another process and measures nothing itself.
"""

import ctypes
import functools
import math
import threading
import warnings
import weakref

from joulebench import _lib
from joulebench._lib import LibraryNotFoundError

__all__ = ["Monitor", "Measurement", "PendingMeasurement", "Window", "MeterInfo",
           "JoulebenchError", "WindowError", "LibraryNotFoundError"]

MAX_NAME_BYTES = 31


class JoulebenchError(RuntimeError):
    """A libjoulebench call failed; `code` is its JB_E* code, the message says why."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class WindowError(JoulebenchError, ValueError):
    """A window used in the wrong state: ended but never begun, begun twice, taken twice."""


class MeterInfo:
    """One meter of a monitor: id ("gpu0", "cpu-package0", "sim0"), kind, name, simulated."""

    __slots__ = ("id", "kind", "name", "source", "uuid", "driver", "simulated")

    def __init__(self, id, kind, name, source, uuid, driver, simulated):  # noqa: A002
        self.id = id
        self.kind = kind
        self.name = name
        self.source = source
        self.uuid = uuid
        self.driver = driver
        self.simulated = simulated

    def __repr__(self):
        return "MeterInfo(id=%r, kind=%r, name=%r%s)" % (
            self.id, self.kind, self.name, ", simulated=True" if self.simulated else "")


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError("window name must be a str, not %s" % type(name).__name__)
    raw = name.encode("utf-8")
    if not raw or len(raw) > MAX_NAME_BYTES or b"\0" in raw:
        raise ValueError("window name %r must be 1 to %d bytes (no NUL)" % (name, MAX_NAME_BYTES))
    return raw


def _or_none(valid, bit, value):
    return value if (valid & bit) and math.isfinite(value) else None


class Measurement:
    """The energy of one window.

    time_s          the window's duration (s)
    energy_j        {meter id: J}: the counter's estimate, else the power integral; None when
                    the meter gave neither
    source          {meter id: "counter" | "power-integral" | "simulated" | "none"}
    simulated       True when any meter is simulated: the numbers are not a measurement
    energy_j_lo/hi  {meter id: J or None}: an interval that holds the energy (see
                    include/joulebench.h, "phases": a bound under the meter's power range)
    energy_j_power  {meter id: J or None}: the trapezoid integral of the power readings
    peak_power_w    {meter id: W or None}, peak_power_source {meter id: "instant" | ...}
    flags           {meter id: tuple of "stepped", "below_resolution", "aliasing", "unlocated",
                    "floored"}; partial {meter id: bool}: readings did not cover the window
    t_begin_ns, t_end_ns  CLOCK_MONOTONIC (time.monotonic_ns()) of the bounds
    meters          the monitor's MeterInfo, in order
    """

    __slots__ = ("name", "time_s", "t_begin_ns", "t_end_ns", "energy_j", "source", "simulated",
                 "energy_j_lo", "energy_j_hi", "energy_j_power", "peak_power_w",
                 "peak_power_source", "flags", "partial", "meters")

    def __init__(self, name, t_begin_ns, t_end_ns, meters):
        self.name = name
        self.t_begin_ns = t_begin_ns
        self.t_end_ns = t_end_ns
        self.time_s = (t_end_ns - t_begin_ns) / 1e9
        self.meters = tuple(meters)
        self.simulated = any(m.simulated for m in self.meters)
        for field in ("energy_j", "source", "energy_j_lo", "energy_j_hi", "energy_j_power",
                      "peak_power_w", "peak_power_source", "flags", "partial"):
            setattr(self, field, {})

    @property
    def total_energy_j(self):
        """Sum of energy_j over the meters that gave one (None when none did).  GPU, CPU package
        and DRAM domains do not overlap, so their sum is the total they see."""
        vals = [v for v in self.energy_j.values() if v is not None]
        return sum(vals) if vals else None

    @property
    def avg_power_w(self):
        """{meter id: energy_j / time_s} (None where energy_j is None or the window is empty)."""
        return {k: (v / self.time_s if v is not None and self.time_s > 0 else None)
                for k, v in self.energy_j.items()}

    def to_dict(self):
        """A JSON-ready dict (the simulated label included)."""
        d = {f: getattr(self, f) for f in self.__slots__ if f != "meters"}
        d["flags"] = {k: list(v) for k, v in self.flags.items()}
        d["meters"] = [{"id": m.id, "kind": m.kind, "name": m.name, "simulated": m.simulated}
                       for m in self.meters]
        return d

    def __repr__(self):
        return ("Measurement(name=%r, time_s=%.6f, energy_j=%r, source=%r, simulated=%r)"
                % (self.name, self.time_s, {k: _round(v) for k, v in self.energy_j.items()},
                   self.source, self.simulated))

    def __str__(self):
        lines = ["window %r: %.3f s%s" % (self.name, self.time_s,
                                          "  [SIMULATED meter: not a measurement]"
                                          if self.simulated else "")]
        for m in self.meters:
            e = self.energy_j.get(m.id)
            lo, hi = self.energy_j_lo.get(m.id), self.energy_j_hi.get(m.id)
            interval = "  [%.3f, %.3f] J" % (lo, hi) if lo is not None and hi is not None else ""
            flags = list(self.flags.get(m.id, ()))
            if self.partial.get(m.id):
                flags.append("partial")
            lines.append("  %-14s %12s J%s  %s%s%s" % (
                m.id, "%.3f" % e if e is not None else "-", interval, self.source.get(m.id),
                "  flags: " + ",".join(flags) if flags else "",
                "  [SIMULATED]" if m.simulated else ""))
        return "\n".join(lines)


def _round(v):
    return None if v is None else round(v, 6)


class PendingMeasurement:
    """The result of a window ended with wait=False: result() waits for it (once it came, the same
    Measurement every time); done() asks without waiting.  Dropped unread, the library forgets it.
    """

    def __init__(self, monitor, name, ticket):
        self._monitor = monitor
        self.name = name
        self._ticket = ticket
        self._result = None
        self._lock = threading.Lock()

    def done(self):
        """True once the result is in (it is then fetched)."""
        return self._fetch(0) is not None

    def result(self, timeout=None):
        """The Measurement; waits up to timeout seconds (None: until it comes, which the readings
        bound: ~0.2 s on NVML, up to ~5 s for a counter that stops moving).  TimeoutError when
        it has not come in time (call again)."""
        if timeout is None:
            ms = -1
        else:
            ms = max(0, min(int(math.ceil(timeout * 1000)), 2**31 - 1))
        m = self._fetch(ms)
        if m is None:
            raise TimeoutError("window %r: no result within %s s" % (self.name, timeout))
        return m

    def _fetch(self, timeout_ms):
        with self._lock:
            if self._result is None:
                self._result = self._monitor._wait(self._ticket, timeout_ms)
            return self._result

    def __del__(self):
        try:
            if self._result is None:
                self._monitor._forget(self._ticket)
        except Exception:  # noqa: BLE001  (interpreter shutdown: nothing to do)
            pass

    def __repr__(self):
        return "PendingMeasurement(name=%r, done=%r)" % (self.name, self._result is not None)


class Window:
    """What `with monitor.window(name)` gives: `measurement` after the block (with wait=False,
    `pending` at once and `measurement` waits on first use)."""

    def __init__(self, monitor, name, wait, sync):
        _check_name(name)
        self._monitor = monitor
        self.name = name
        self._wait = wait
        self._sync = sync
        self.pending = None
        self._measurement = None

    @property
    def measurement(self):
        if self._measurement is None and self.pending is not None:
            self._measurement = self.pending.result()
        return self._measurement

    def __enter__(self):
        self._monitor.begin_window(self.name, sync=self._sync)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._end(self._sync)
            return False
        # The block failed (perhaps the device did): still end and measure the window, but skip
        # the sync and do not let a failure here hide the block's exception.
        try:
            self._end(False)
        except Exception as e:  # noqa: BLE001
            warnings.warn("window %r: ending it after an error failed too: %s" % (self.name, e),
                          RuntimeWarning, stacklevel=2)
        return False

    def _end(self, sync):
        res = self._monitor.end_window(self.name, wait=self._wait, sync=sync)
        if self._wait:
            self._measurement = res
        else:
            self.pending = res


class Monitor:
    """Measures windows of this program's execution on `meters`.

    meters          "auto" (every visible GPU and readable RAPL domain), "gpu", "gpu0,gpu2",
                    "cpu", "sim", "sim:const=W", "sim:nvml:..." (joulebench-devices(1))
    interval_ms     power sampling interval, 10..60000
    energy_interval_ms  counter reading interval, 10..60000
    sync            a callable run before each window bound (e.g. torch.cuda.synchronize), so
                    the bounds bound the device's work, not only the host's; per call, sync=False
                    skips it and sync=f uses f
    bound_reads     read every counter at each window bound, as `joulebench stat` does at phase
                    bounds (~4 ms per NVML GPU, in the calling thread); False leaves the counters
                    to the sampler's schedule
    library         path of libjoulebench.so.0 (default: $JOULEBENCH_LIBRARY, then the loader)

    Thread-safe: windows may be begun and ended from any thread; names are the monitor's, so two
    threads must use different names.  close() (or the end of a `with Monitor() as mon:` block)
    stops the sampler; windows still open are dropped.
    """

    def __init__(self, meters="auto", interval_ms=100, energy_interval_ms=100, sync=None,
                 bound_reads=True, library=None):
        if sync is not None and not callable(sync):
            raise TypeError("sync must be callable (e.g. torch.cuda.synchronize), not %s"
                            % type(sync).__name__)
        for label, v in (("interval_ms", interval_ms), ("energy_interval_ms", energy_interval_ms)):
            if isinstance(v, bool) or not isinstance(v, int) or not 10 <= v <= 60000:
                raise ValueError("%s must be an integer 10..60000, got %r" % (label, v))
        if not isinstance(meters, str) or not meters:
            raise ValueError("meters must be a non-empty str such as 'auto', 'gpu0' or 'sim'")
        loaded = _lib.library_path()
        if library and loaded is not None and loaded != library:
            raise ValueError("libjoulebench is already loaded from %s in this process; it cannot "
                             "be loaded from %s too" % (loaded, library))
        self._lib = _lib.load({_lib.ENV_VAR: library} if library else None)
        self._sync = sync
        self._handle = ctypes.c_void_p()
        self._state = threading.Condition()
        self._busy = 0
        self._closed = False
        self._freed = [False]  # shared with the finalizer
        flags = 0 if bound_reads else _lib.JB_MONITOR_NO_BOUND_READS
        rc = self._lib.jb_monitor_new(ctypes.byref(self._handle), meters.encode("utf-8"),
                                      interval_ms, energy_interval_ms, flags)
        if rc < 0:
            self._closed = True
            raise self._error(rc, None, "cannot start a monitor on %r" % meters)
        n = self._lib.jb_monitor_meter_count(self._handle)
        self.meters = tuple(self._meter_info(i) for i in range(n))
        self.notes = tuple(_lib.text(self._lib.jb_monitor_note(self._handle, i))
                           for i in range(self._lib.jb_monitor_note_count(self._handle)))
        self.simulated = any(m.simulated for m in self.meters)
        # Freed at close(), when the monitor is collected, or at interpreter exit (before any
        # PendingMeasurement's __del__, which then finds it closed: the flag is shared).
        self._finalizer = weakref.finalize(self, _free, self._lib, self._handle.value,
                                           self._freed)

    # ---- library calls, kept apart from close() -------------------------------------------

    def _enter(self):
        with self._state:
            if self._closed or self._freed[0]:
                raise JoulebenchError("the monitor is closed")
            self._busy += 1

    def _leave(self):
        with self._state:
            self._busy -= 1
            if not self._busy:
                self._state.notify_all()

    def _error(self, rc, name, what):
        msg = _lib.text(self._lib.jb_monitor_errmsg(None)) or _lib.text(
            self._lib.jb_strerror(rc))
        cls = WindowError if rc == _lib.JB_ESTATE else JoulebenchError
        return cls("%s: %s" % (what, msg), rc)

    def _meter_info(self, i):
        info = self._lib.jb_meter_get_info(self._lib.jb_monitor_meter(self._handle, i)).contents
        return MeterInfo(_lib.text(info.id), _lib.text(self._lib.jb_meter_kind_name(info.kind)),
                         _lib.text(info.name), _lib.text(info.source), _lib.text(info.uuid),
                         _lib.text(info.driver), bool(info.simulated))

    def _do_sync(self, sync):
        if sync is False:
            return
        fn = self._sync if sync is None or sync is True else sync
        if fn is not None:
            fn()

    # ---- windows -----------------------------------------------------------------------------

    def begin_window(self, name, sync=None):
        """Begins window `name` now (after sync).  WindowError when it is already open."""
        raw = _check_name(name)
        self._do_sync(sync)
        self._enter()
        try:
            rc = self._lib.jb_monitor_begin(self._handle, raw)
            if rc < 0:
                raise self._error(rc, name, "cannot begin window %r" % name)
        finally:
            self._leave()

    def end_window(self, name, wait=True, sync=None):
        """Ends window `name` now (after sync) and returns its Measurement, waiting for the
        readings past its end (~0.1-0.2 s on NVML); with wait=False a PendingMeasurement at once.
        WindowError when no window of that name is open."""
        raw = _check_name(name)
        self._do_sync(sync)
        ticket = ctypes.c_uint64(0)
        self._enter()
        try:
            rc = self._lib.jb_monitor_end(self._handle, raw, ctypes.byref(ticket))
            if rc < 0:
                raise self._error(rc, name, "cannot end window %r" % name)
        finally:
            self._leave()
        pending = PendingMeasurement(self, name, ticket.value)
        return pending.result() if wait else pending

    def cancel_window(self, name):
        """Ends window `name` and drops it (no Measurement).  WindowError when it is not open."""
        raw = _check_name(name)
        self._enter()
        try:
            rc = self._lib.jb_monitor_cancel(self._handle, raw)
            if rc < 0:
                raise self._error(rc, name, "cannot cancel window %r" % name)
        finally:
            self._leave()

    def window(self, name, wait=True, sync=None):
        """A context manager: `with mon.window("eval") as w: ...`, then w.measurement.  The
        window is ended (and measured) also when the block raises."""
        return Window(self, name, wait, sync)

    def measure(self, name=None, callback=None, sync=None):
        """A decorator measuring each call of a function as one window (named after the function
        unless `name` is given).  Each call's Measurement goes to callback(m) when given, and is
        kept as the wrapper's `last_measurement`.  The function must not run in two threads at
        once, nor call itself: that would open its window twice (WindowError).

            @mon.measure
            def train(): ...
            @mon.measure("eval", callback=results.append)
            def evaluate(): ...
        """
        if callable(name) and callback is None:
            return self.measure()(name)
        if name is not None:
            _check_name(name)

        def decorate(fn):
            wname = name if name is not None else fn.__name__
            _check_name(wname)

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                w = Window(self, wname, True, sync)
                try:
                    with w:
                        return fn(*args, **kwargs)
                finally:
                    # Also when fn raised: its window was ended and measured all the same.
                    if w.measurement is not None:
                        wrapper.last_measurement = w.measurement
                        if callback is not None:
                            callback(w.measurement)

            wrapper.last_measurement = None
            return wrapper

        return decorate

    # ---- results -------------------------------------------------------------------------------

    def _wait(self, ticket, timeout_ms):
        out = ctypes.c_void_p()
        self._enter()
        try:
            rc = self._lib.jb_monitor_wait(self._handle, ticket, timeout_ms, ctypes.byref(out))
            if rc < 0:
                raise self._error(rc, None, "cannot take the result of window %d" % ticket)
            if rc == 0:
                return None
            try:
                return self._measurement(out)
            finally:
                self._lib.jb_window_free(out)
        finally:
            self._leave()

    def _forget(self, ticket):
        with self._state:
            if self._closed or self._freed[0]:
                return
            self._busy += 1
        try:
            self._lib.jb_monitor_forget(self._handle, ticket)
        finally:
            self._leave()

    def _measurement(self, w):
        lib = self._lib
        m = Measurement(_lib.text(lib.jb_window_name(w)), lib.jb_window_t_begin_ns(w),
                        lib.jb_window_t_end_ns(w), self.meters)
        for i, info in enumerate(self.meters):
            r = lib.jb_window_result(w, i).contents
            mid = info.id
            e = lib.jb_window_energy_j(w, i)
            m.energy_j[mid] = e if math.isfinite(e) else None
            m.source[mid] = _lib.text(lib.jb_window_energy_source(w, i))
            bounds = r.valid & _lib.JB_PHASE_ENERGY_BOUNDS
            m.energy_j_lo[mid] = r.energy_j_lo if bounds else None
            m.energy_j_hi[mid] = r.energy_j_hi if bounds else None
            m.energy_j_power[mid] = _or_none(r.valid, _lib.JB_PHASE_ENERGY_POWER,
                                             r.energy_j_power)
            peak = r.valid & _lib.JB_PHASE_PEAK
            m.peak_power_w[mid] = r.peak_power_w if peak else None
            m.peak_power_source[mid] = (_lib.text(lib.jb_power_source_name(r.peak_power_source))
                                        if peak else None)
            m.flags[mid] = tuple(_lib.text(lib.jb_phase_flag_name(1 << b))
                                 for b in range(_lib.FLAG_BITS) if r.flags & (1 << b))
            m.partial[mid] = bool(r.valid & _lib.JB_PHASE_PARTIAL)
        return m

    # ---- meters and lifetime ----------------------------------------------------------------

    def meter_errors(self):
        """{meter id: why it stopped being read} for the meters that did (a lost GPU)."""
        out = {}
        self._enter()
        try:
            for i, info in enumerate(self.meters):
                e = _lib.text(self._lib.jb_monitor_meter_error(self._handle, i))
                if e:
                    out[info.id] = e
        finally:
            self._leave()
        return out

    def close(self):
        """Stops the sampler and frees the monitor (waits for calls in other threads to return).
        Open windows and results not taken are dropped.  Idempotent."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            while self._busy:
                self._state.wait()
        self._finalizer()

    @property
    def closed(self):
        return self._closed or self._freed[0]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __repr__(self):
        return "Monitor(meters=%r%s%s)" % ([m.id for m in self.meters],
                                           ", simulated=True" if self.simulated else "",
                                           ", closed" if self.closed else "")


def _free(lib, handle, freed):
    freed[0] = True
    if handle:
        lib.jb_monitor_free(handle)

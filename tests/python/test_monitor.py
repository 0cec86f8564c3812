"""Tests of joulebench.Monitor (python/joulebench/monitor.py, _lib.py) over the built libjoulebench
($JOULEBENCH_LIBRARY, set by ctest) on simulated meters: a window's energy on a constant load is
that power times its duration; windows nest and overlap; the context manager and the decorator
(also when the block raises); not waiting; cancelling; errors and their messages; sync called at
each bound; threads; the simulated label in every form of a Measurement; the library-not-found
message; the ctypes mirrors of the C structs against the C compiler's offsets; and a Monitor window
against `joulebench stat`'s phase over the same block in the same process (the same estimator).
Assertions are on values, never on how many readings came in a time."""

import ctypes
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from conftest import SOURCE_DIR

import joulebench as jb
from joulebench import _lib

LIB = os.environ.get("JOULEBENCH_LIBRARY")
JB = os.environ.get("JB")

needs_lib = pytest.mark.skipif(not LIB, reason="JOULEBENCH_LIBRARY not set (ctest sets it)")

# How far the NVML-faithful simulated counter's bounds may be placed (s): a quarter of its 100 ms
# update period, as tests/unit/test_monitor.c; the estimator's accuracy is tested there and in
# test_estimator.c.
NVML_TOL_S = 0.025


def expect_constant(m, watts, tol_s, meter="sim0"):
    want = watts * m.time_s
    got = m.energy_j[meter]
    assert got is not None
    assert abs(got - want) <= watts * tol_s + 1e-9 * want + 0.002, (m, want)
    lo, hi = m.energy_j_lo[meter], m.energy_j_hi[meter]
    if lo is not None:
        assert lo - 1e-9 <= got <= hi + 1e-9
        assert lo - 0.002 <= want <= hi + 0.002


@pytest.fixture
def mon():
    m = jb.Monitor("sim:const=100")
    yield m
    m.close()


@needs_lib
def test_constant_window(mon):
    assert [x.id for x in mon.meters] == ["sim0"]
    assert mon.meters[0].simulated and mon.simulated
    before = time.monotonic_ns()
    mon.begin_window("train")
    time.sleep(0.3)
    m = mon.end_window("train")
    after = time.monotonic_ns()
    assert isinstance(m, jb.Measurement)
    assert m.name == "train"
    assert before <= m.t_begin_ns < m.t_end_ns <= after
    assert m.time_s >= 0.3
    expect_constant(m, 100, 0)
    assert m.source == {"sim0": "simulated"}
    assert m.simulated is True
    assert m.partial == {"sim0": False}
    assert m.flags["sim0"] == ()  # an exact counter: no step function
    assert m.total_energy_j == m.energy_j["sim0"]
    assert abs(m.avg_power_w["sim0"] - 100) < 1e-6
    assert m.energy_j_power["sim0"] is not None
    assert m.peak_power_w["sim0"] == pytest.approx(100)


@needs_lib
def test_simulated_label_everywhere(mon):
    mon.begin_window("x")
    m = mon.end_window("x")
    assert "simulated=True" in repr(m)
    assert "SIMULATED" in str(m)
    d = m.to_dict()
    assert d["simulated"] is True and d["meters"][0]["simulated"] is True
    json.dumps(d)  # JSON-ready
    assert "simulated=True" in repr(mon) and "simulated=True" in repr(mon.meters[0])


@needs_lib
def test_nvml_faithful():
    with jb.Monitor("sim:nvml:offset_ms=37:const=100") as mon:
        for _ in range(2):
            mon.begin_window("step")
            time.sleep(0.45)
            m = mon.end_window("step")
            expect_constant(m, 100, NVML_TOL_S)
            assert "stepped" in m.flags["sim0"]
            assert m.source["sim0"] == "simulated"
    assert mon.closed


@needs_lib
def test_nested_and_overlapping(mon):
    mon.begin_window("outer")
    time.sleep(0.1)
    with mon.window("inner") as inner:
        time.sleep(0.15)
    time.sleep(0.1)
    outer = mon.end_window("outer")
    inner = inner.measurement
    assert outer.t_begin_ns < inner.t_begin_ns < inner.t_end_ns < outer.t_end_ns
    expect_constant(outer, 100, 0)
    expect_constant(inner, 100, 0)
    assert inner.energy_j["sim0"] < outer.energy_j["sim0"]

    mon.begin_window("a")
    time.sleep(0.1)
    mon.begin_window("b")
    time.sleep(0.1)
    pa = mon.end_window("a", wait=False)
    time.sleep(0.1)
    b = mon.end_window("b")
    a = pa.result()
    assert a.t_begin_ns < b.t_begin_ns < a.t_end_ns < b.t_end_ns
    expect_constant(a, 100, 0)
    expect_constant(b, 100, 0)


@needs_lib
def test_context_manager_on_error(mon):
    w = mon.window("boom")
    with pytest.raises(ZeroDivisionError):
        with w:
            time.sleep(0.05)
            1 / 0
    assert w.measurement is not None  # ended and measured all the same
    expect_constant(w.measurement, 100, 0)
    mon.begin_window("boom")  # the name is free again
    mon.cancel_window("boom")


@needs_lib
def test_decorator(mon):
    seen = []

    @mon.measure
    def work(x):
        time.sleep(0.05)
        return x * 2

    @mon.measure("named", callback=seen.append)
    def other():
        time.sleep(0.05)

    @mon.measure("fails")
    def fails():
        raise KeyError("k")

    assert work.__name__ == "work"
    assert work.last_measurement is None
    assert work(21) == 42
    assert work.last_measurement.name == "work"
    expect_constant(work.last_measurement, 100, 0)
    other()
    other()
    assert [m.name for m in seen] == ["named", "named"]
    assert other.last_measurement is seen[-1]
    with pytest.raises(KeyError):
        fails()
    assert fails.last_measurement is not None and fails.last_measurement.name == "fails"

    @mon.measure("recursive")
    def rec(n):
        return rec(n - 1) if n else 0

    with pytest.raises(jb.WindowError, match="'recursive' is already open"):
        rec(1)
    with pytest.raises(ValueError):
        mon.measure("x" * 40)


@needs_lib
def test_not_waiting(mon):
    mon.begin_window("p")
    time.sleep(0.1)
    pending = mon.end_window("p", wait=False)
    assert isinstance(pending, jb.PendingMeasurement)
    assert "done=" in repr(pending)
    m = pending.result(timeout=30)
    assert m is pending.result() and pending.done()
    expect_constant(m, 100, 0)
    w = mon.window("later", wait=False)
    with w:
        time.sleep(0.05)
    assert w.pending is not None
    expect_constant(w.measurement, 100, 0)


@needs_lib
def test_timeout_on_step_counter():
    """A step-function counter's window resolves two updates (>= 100 ms) past its end at the
    earliest: asking at once gives TimeoutError (unless this thread was held up that long)."""
    with jb.Monitor("sim:nvml:const=100") as mon:
        mon.begin_window("t")
        time.sleep(0.2)
        pending = mon.end_window("t", wait=False)
        t_end = time.monotonic_ns()
        try:
            pending.result(timeout=0)
        except TimeoutError as e:
            assert "'t'" in str(e)
        else:
            assert time.monotonic_ns() - t_end >= 100_000_000
        expect_constant(pending.result(), 100, NVML_TOL_S)


@needs_lib
def test_cancel_and_forget(mon):
    mon.begin_window("c")
    mon.cancel_window("c")
    with pytest.raises(jb.WindowError):
        mon.end_window("c")
    with pytest.raises(jb.WindowError):
        mon.cancel_window("c")
    mon.begin_window("dropped")
    p = mon.end_window("dropped", wait=False)
    del p  # forgotten by the library (no leak: the monitor's tables; ASan covers the C side)
    expect_constant(_window(mon, "c"), 100, 0)  # the name is free again


def _window(mon, name, secs=0.05):
    with mon.window(name) as w:
        time.sleep(secs)
    return w.measurement


@needs_lib
def test_errors(mon):
    with pytest.raises(jb.WindowError, match="no window 'never' is open") as ei:
        mon.end_window("never")
    assert isinstance(ei.value, ValueError)  # as Zeus raises for an unknown window
    assert ei.value.code == _lib.JB_ESTATE
    mon.begin_window("twice")
    with pytest.raises(jb.WindowError, match="already open"):
        mon.begin_window("twice")
    mon.cancel_window("twice")
    for bad in ("", "x" * 32, "a\0b"):
        with pytest.raises(ValueError):
            mon.begin_window(bad)
    with pytest.raises(TypeError):
        mon.begin_window(7)
    assert len("é" * 15) == 15 and len(("é" * 16).encode()) == 32
    with pytest.raises(ValueError):
        mon.begin_window("é" * 16)  # 32 bytes in UTF-8
    with pytest.raises(jb.JoulebenchError, match="bogus"):
        jb.Monitor("sim:bogus=1")
    with pytest.raises(ValueError, match="interval_ms"):
        jb.Monitor("sim", interval_ms=5)
    with pytest.raises(ValueError, match="energy_interval_ms"):
        jb.Monitor("sim", energy_interval_ms=True)
    with pytest.raises(TypeError, match="sync"):
        jb.Monitor("sim", sync="torch")
    with pytest.raises(ValueError):
        jb.Monitor("")
    with pytest.raises(ValueError, match="already loaded"):
        jb.Monitor("sim", library="/elsewhere/libjoulebench.so.0")
    jb.Monitor("sim", library=_lib.library_path()).close()  # the same one: fine
    m2 = jb.Monitor("sim")
    m2.close()
    m2.close()  # idempotent
    with pytest.raises(jb.JoulebenchError, match="closed"):
        m2.begin_window("x")


@needs_lib
def test_sync_at_each_bound():
    calls = []
    with jb.Monitor("sim", sync=lambda: calls.append(1)) as mon:
        _window(mon, "s")
        assert len(calls) == 2
        mon.begin_window("s", sync=False)
        mon.end_window("s", sync=lambda: calls.append(2))
        assert calls == [1, 1, 2]
        with pytest.raises(ZeroDivisionError):
            with mon.window("s"):
                1 / 0
        assert calls == [1, 1, 2, 1]  # no sync at the end of a block that raised


@needs_lib
def test_threads(mon):
    errors = []

    def worker(k):
        try:
            for j in range(3):
                m = _window(mon, "thread%d" % k, 0.03 + 0.01 * j)
                assert m.name == "thread%d" % k
                expect_constant(m, 100, 0)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@needs_lib
def test_forked_child(mon):
    """In a fork()ed child the monitor refuses windows (its sampler threads are the parent's)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            mon.begin_window("child")
        except jb.WindowError as e:
            code = 0 if "fork" in str(e) else 2
        finally:
            os._exit(code)
    _, st = os.waitpid(pid, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
    expect_constant(_window(mon, "parent"), 100, 0)


@needs_lib
def test_no_bound_reads():
    with jb.Monitor("sim:const=100", bound_reads=False, interval_ms=20) as mon:
        expect_constant(_window(mon, "nb", 0.2), 100, 0)


def _run_python(code, env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_library_not_found():
    env = dict(os.environ, JOULEBENCH_LIBRARY="/nonexistent/libjoulebench.so.0",
               PYTHONPATH=os.path.join(SOURCE_DIR, "python"))
    code = """
        import joulebench as jb
        try:
            jb.Monitor("sim")
        except jb.LibraryNotFoundError as e:
            print("ERR", e)
        """
    out = _run_python(code, env)
    assert out.returncode == 0, out.stderr
    assert "ERR cannot load libjoulebench from JOULEBENCH_LIBRARY=/nonexistent" in out.stdout

    # Not given: the message names both ways (the loader's path and the variable), unless a
    # libjoulebench is installed where the loader finds it.
    env = {k: v for k, v in env.items() if k != "JOULEBENCH_LIBRARY"}
    env["LD_LIBRARY_PATH"] = ""
    out = _run_python(code, env)
    assert out.returncode == 0, out.stderr
    if "ERR" in out.stdout:
        assert "JOULEBENCH_LIBRARY" in out.stdout and "LD_LIBRARY_PATH" in out.stdout
        assert "libjoulebench.so.0" in out.stdout

    # Importing the package never loads the library (workloads import it for jb.phase).
    out = _run_python("import joulebench, joulebench._lib as l; print(l.library_path())", env)
    assert out.stdout.strip() == "None", out.stderr


@pytest.mark.skipif(not shutil.which("cc"), reason="no C compiler")
def test_struct_mirrors(tmp_path):
    """The ctypes mirrors have the C structs' offsets and sizes."""
    src = tmp_path / "layout.c"
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "joulebench.h"',
             'int main(void) {']
    for cname, py in (("jb_phase_result", _lib.PhaseResult), ("jb_meter_info", _lib.MeterInfo)):
        lines.append('printf("%s sizeof %%zu\\n", sizeof(struct %s));' % (cname, cname))
        for field, _ in py._fields_:
            lines.append('printf("%s %s %%zu\\n", offsetof(struct %s, %s));'
                         % (cname, field, cname, field))
    lines.append("return 0; }")
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run(["cc", "-std=c11", "-I", os.path.join(SOURCE_DIR, "include"), str(src), "-o",
                    str(exe)], check=True)
    got = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    want = []
    for cname, py in (("jb_phase_result", _lib.PhaseResult), ("jb_meter_info", _lib.MeterInfo)):
        want.append("%s sizeof %d" % (cname, ctypes.sizeof(py)))
        for field, _ in py._fields_:
            want.append("%s %s %d" % (cname, field, getattr(py, field).offset))
    assert got.split("\n")[:-1] == want


# ---- against joulebench stat ----------------------------------------------------------------

CHILD = """
import json, sys, time
import joulebench as jb
spec, out = sys.argv[1], sys.argv[2]
with jb.Monitor(spec) as mon:
    time.sleep(0.5)                 # both samplers past their start-up
    with jb.phase("work"):          # stat's phase ...
        with mon.window("work", wait=False) as w:   # ... and the window, around the same block
            time.sleep(1.0)
    time.sleep(0.5)                 # stat resolves phases ending in its last ~0.2 s as partial
    m = w.measurement
json.dump({"energy_j": m.energy_j["sim0"], "time_s": m.time_s, "simulated": m.simulated,
           "source": m.source["sim0"]}, open(out, "w"))
"""


@needs_lib
@pytest.mark.skipif(not JB, reason="JB (the joulebench binary) not set")
@pytest.mark.parametrize("spec,tol_s", [("sim:const=100", 0.0),
                                        ("sim:nvml:offset_ms=13:const=100", NVML_TOL_S)])
def test_against_stat(tmp_path, spec, tol_s):
    """`joulebench stat -m SPEC -- python3 child.py` with a phase "work" around a Monitor window
    "work" on a meter of the same SPEC: the two estimates of the same block agree, each being
    100 W x its own duration (the phase's bounds hold the window's, plus the window's bound
    reads)."""
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    js, mj = tmp_path / "stat.json", tmp_path / "mon.json"
    env = dict(os.environ)
    out = subprocess.run([JB, "stat", "-q", "-m", spec, "--json", str(js), "--", sys.executable,
                          str(child), spec, str(mj)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    stat = json.loads(js.read_text())
    mon = json.loads(mj.read_text())
    (phase,) = [p for p in stat["phases"] if p["phase"] == "work"]
    assert stat["meters"][0]["simulated"] is True and mon["simulated"] is True
    assert stat["meters"][0]["energy_source"] == mon["source"] == "simulated"
    assert not phase["partial"]
    # The phase encloses the window (its marks are taken outside the window's).
    assert phase["duration_s"] >= mon["time_s"]
    assert phase["duration_s"] - mon["time_s"] < 0.1
    for e, d in ((phase["energy_j"], phase["duration_s"]), (mon["energy_j"], mon["time_s"])):
        assert abs(e - 100 * d) <= 100 * tol_s + 0.002 + 1e-9 * e, (phase, mon)
    # And with each other, for the same time: average power within the two tolerances.
    p_stat, p_mon = phase["energy_j"] / phase["duration_s"], mon["energy_j"] / mon["time_s"]
    assert abs(p_stat - p_mon) <= 100 * 2 * tol_s / mon["time_s"] + 1e-6

"""joulebench._lib - the ctypes binding of libjoulebench's monitor (include/joulebench.h).

Finds and loads the shared library, declares the prototypes of the calls that joulebench.monitor
makes, and mirrors the two structs it reads (struct jb_phase_result, struct jb_meter_info) field
for field; tests/python/test_monitor.py checks the mirrors against the C compiler's offsets.
Structs are read through the pointers the library gives, never indexed as arrays here, so a
struct that grows at its end (as jb_phase_result may) stays readable.

Where the library is looked for, in order:
  1. $JOULEBENCH_LIBRARY, a path to libjoulebench.so.0 (or any file name): used alone, an error
     if it cannot be loaded;
  2. the library that `cmake --install` put beside this package (joulebench/_installed.py, written
     at install time);
  3. the dynamic loader's path (LD_LIBRARY_PATH, /etc/ld.so.cache, the system directories):
     libjoulebench.so.0, then whatever ctypes.util.find_library("joulebench") names.
Not found: LibraryNotFoundError naming both ways to point at it.
Nothing is loaded at import: only when a Monitor is made.
"""

import ctypes
import ctypes.util
import os
import threading

ENV_VAR = "JOULEBENCH_LIBRARY"
SONAME = "libjoulebench.so.0"

# Error codes (include/joulebench.h): never renumbered.
JB_EINVAL = -1
JB_ENOMEM = -2
JB_ENODEV = -4
JB_ESTATE = -10
JB_ERANGE = -12

JB_MONITOR_NO_BOUND_READS = 1 << 0

# jb_phase_result.valid
JB_PHASE_ENERGY = 1 << 0
JB_PHASE_ENERGY_POWER = 1 << 1
JB_PHASE_PARTIAL = 1 << 3
JB_PHASE_ENERGY_BOUNDS = 1 << 4
JB_PHASE_PEAK = 1 << 5
JB_PHASE_PEAK_INTERVAL = 1 << 6
JB_PHASE_POWER_DIFF = 1 << 7
JB_PHASE_IDLE_POWER = 1 << 8

FLAG_BITS = 5  # JB_PHASE_FLAG_* are bits 0..4; jb_phase_flag_name names them


class LibraryNotFoundError(OSError):
    """libjoulebench could not be found or loaded, or lacks the monitor."""


class PhaseResult(ctypes.Structure):
    """struct jb_phase_result (include/joulebench.h), read through a pointer only."""

    _fields_ = [
        ("phase", ctypes.c_char * 32),
        ("index", ctypes.c_long),
        ("meter", ctypes.c_size_t),
        ("t_begin_ns", ctypes.c_uint64),
        ("t_end_ns", ctypes.c_uint64),
        ("valid", ctypes.c_uint32),
        ("energy_j", ctypes.c_double),
        ("energy_j_power", ctypes.c_double),
        ("items", ctypes.c_double),
        ("flags", ctypes.c_uint32),
        ("energy_j_lo", ctypes.c_double),
        ("energy_j_hi", ctypes.c_double),
        ("power_rel_diff", ctypes.c_double),
        ("peak_power_w", ctypes.c_double),
        ("peak_power_source", ctypes.c_uint32),
        ("peak_interval_power_w", ctypes.c_double),
        ("idle_power_w", ctypes.c_double),
        ("update_period_s", ctypes.c_double),
    ]


class MeterInfo(ctypes.Structure):
    """struct jb_meter_info (include/joulebench.h), read through a pointer only."""

    _fields_ = [
        ("id", ctypes.c_char * 32),
        ("kind", ctypes.c_int),
        ("source", ctypes.c_char * 16),
        ("name", ctypes.c_char * 128),
        ("uuid", ctypes.c_char * 96),
        ("pci_bus_id", ctypes.c_char * 32),
        ("driver", ctypes.c_char * 64),
        ("device_index", ctypes.c_int),
        ("simulated", ctypes.c_int),
        ("caps", ctypes.c_uint32),
        ("valid", ctypes.c_uint32),
        ("power_limit_w", ctypes.c_double),
        ("memory_total_mib", ctypes.c_double),
        ("max_energy_range_j", ctypes.c_double),
    ]


_vp = ctypes.c_void_p
_u64 = ctypes.c_uint64
_sz = ctypes.c_size_t
_str = ctypes.c_char_p

# name: (restype, argtypes)
_PROTOTYPES = {
    "jb_version": (_str, []),
    "jb_strerror": (_str, [ctypes.c_int]),
    "jb_now_ns": (_u64, []),
    "jb_meter_get_info": (ctypes.POINTER(MeterInfo), [_vp]),
    "jb_meter_kind_name": (_str, [ctypes.c_int]),
    "jb_phase_flag_name": (_str, [ctypes.c_uint32]),
    "jb_power_source_name": (_str, [ctypes.c_uint32]),
    "jb_monitor_new": (ctypes.c_int, [ctypes.POINTER(_vp), _str, ctypes.c_uint, ctypes.c_uint,
                                      ctypes.c_uint]),
    "jb_monitor_free": (None, [_vp]),
    "jb_monitor_meter_count": (_sz, [_vp]),
    "jb_monitor_meter": (_vp, [_vp, _sz]),
    "jb_monitor_meter_error": (_str, [_vp, _sz]),
    "jb_monitor_note_count": (_sz, [_vp]),
    "jb_monitor_note": (_str, [_vp, _sz]),
    "jb_monitor_begin": (ctypes.c_int, [_vp, _str]),
    "jb_monitor_end": (ctypes.c_int, [_vp, _str, ctypes.POINTER(_u64)]),
    "jb_monitor_cancel": (ctypes.c_int, [_vp, _str]),
    "jb_monitor_wait": (ctypes.c_int, [_vp, _u64, ctypes.c_int, ctypes.POINTER(_vp)]),
    "jb_monitor_forget": (None, [_vp, _u64]),
    "jb_monitor_errmsg": (_str, [_vp]),
    "jb_window_free": (None, [_vp]),
    "jb_window_name": (_str, [_vp]),
    "jb_window_ticket": (_u64, [_vp]),
    "jb_window_t_begin_ns": (_u64, [_vp]),
    "jb_window_t_end_ns": (_u64, [_vp]),
    "jb_window_meter_count": (_sz, [_vp]),
    "jb_window_result": (ctypes.POINTER(PhaseResult), [_vp, _sz]),
    "jb_window_energy_j": (ctypes.c_double, [_vp, _sz]),
    "jb_window_energy_source": (_str, [_vp, _sz]),
    "jb_window_simulated": (ctypes.c_int, [_vp]),
}

_lock = threading.Lock()
_lib = None
_lib_path = None


def _installed_library():
    try:
        from joulebench import _installed  # written by cmake --install
    except ImportError:
        return None
    return getattr(_installed, "LIBRARY", None)


def _declare(lib, path):
    missing = [name for name in _PROTOTYPES if not hasattr(lib, name)]
    if missing:
        raise LibraryNotFoundError(
            "libjoulebench at %s has no %s: it is older than the Python package (build and "
            "install the library of the same version, or point %s at it)"
            % (path, ", ".join(missing[:3]), ENV_VAR))
    for name, (res, args) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


def load(environ=None):
    """The loaded library (loaded once per process); LibraryNotFoundError when not found."""
    global _lib, _lib_path
    env = os.environ if environ is None else environ
    with _lock:
        if _lib is not None:
            return _lib
        given = env.get(ENV_VAR)
        if given:
            try:
                lib = ctypes.CDLL(given)
            except OSError as e:
                raise LibraryNotFoundError("cannot load libjoulebench from %s=%s: %s"
                                           % (ENV_VAR, given, e)) from None
            _lib, _lib_path = _declare(lib, given), given
            return _lib
        tried = []
        candidates = []
        installed = _installed_library()
        if installed:
            candidates.append(installed)
        candidates.append(SONAME)
        found = ctypes.util.find_library("joulebench")
        if found and found not in candidates:
            candidates.append(found)
        for cand in candidates:
            try:
                lib = ctypes.CDLL(cand)
            except OSError as e:
                tried.append("%s (%s)" % (cand, e))
                continue
            _lib, _lib_path = _declare(lib, cand), cand
            return _lib
        raise LibraryNotFoundError(
            "cannot find libjoulebench: tried %s.  Install it (cmake --install build) where the "
            "dynamic loader looks (or add its folder to LD_LIBRARY_PATH), or set %s to the "
            "library's path, e.g. %s=build/libjoulebench.so.0"
            % ("; ".join(tried), ENV_VAR, ENV_VAR))


def library_path():
    """The path (or name) the library was loaded from; None before the first load."""
    return _lib_path


def text(b):
    """A C string from the library as str (its strings are ASCII or UTF-8)."""
    return b.decode("utf-8", "replace") if b is not None else ""

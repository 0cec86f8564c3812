#!/usr/bin/env python3
"""Launcher of the native trainer, so that grids run it as python3 workloads/native/train.py
like the other workloads (workloads/{framework}/train.py): it replaces itself (os.execv) with the
C binary, which then marks its own phases through the same JOULEBENCH_FD; nothing of Python stays
in the measured process.  The binary is $JOULEBENCH_NATIVE_TRAIN, else build/workloads/native/
jb-native-train under the repository, else .native-carry/bin/jb-native-train, else
jb-native-train on PATH.  Standard library only; exit 2 when no binary is found.
"""

import os
import shutil
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "jb-native-train"


def find_binary(environ=None):
    env = os.environ if environ is None else environ
    given = env.get("JOULEBENCH_NATIVE_TRAIN")
    if given:
        return given
    for cand in (os.path.join(_ROOT, "build", "workloads", "native", NAME),
                 os.path.join(_ROOT, ".native-carry", "bin", NAME)):
        if os.access(cand, os.X_OK):
            return cand
    return shutil.which(NAME)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    binary = find_binary()
    if not binary or not os.access(binary, os.X_OK):
        sys.stderr.write("workloads/native/train.py: error: the native trainer is not built "
                         "(cmake -S . -B build && ninja -C build, with nvcc, cuBLAS and cuDNN; "
                         "or set JOULEBENCH_NATIVE_TRAIN to its path)\n")
        return 2
    sys.stdout.flush()
    os.execv(binary, [binary] + list(argv))
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())

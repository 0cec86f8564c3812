"""Shared pytest set-up for tests/python: makes python/ importable when pytest is run by hand
(ctest sets PYTHONPATH itself) and names the source tree."""

import os
import sys

SOURCE_DIR = os.environ.get("JB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
_py = os.path.join(SOURCE_DIR, "python")
if _py not in sys.path:
    sys.path.insert(0, _py)

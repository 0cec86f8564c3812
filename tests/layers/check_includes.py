#!/usr/bin/env python3
"""The layers' include paths (issue 9): src/lib's private headers are the library's alone.

    check_includes.py SOURCE_DIR BUILD_DIR

Fails when a source of the tool (src/cli, src/run, src/analysis, src/data, src/util) or of the
JSON parser (src/json) or the list tokeniser (src/list) is compiled with src/lib on its include path (build/compile_commands.json),
or names in an #include a header that exists only in src/lib.  The unit tests may (they test the
library's internals); the tool may not.
"""
import json
import os
import re
import shlex
import sys

TOOL = ("src/cli/", "src/run/", "src/analysis/", "src/data/", "src/util/", "src/json/", "src/list/")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, build = (os.path.realpath(p) for p in sys.argv[1:])
    lib = os.path.join(src, "src", "lib")
    lib_headers = {f for f in os.listdir(lib) if f.endswith(".h")}
    others = set()
    for d in ("src", "include"):
        for root, _, names in os.walk(os.path.join(src, d)):
            if os.path.realpath(root) != lib:
                others |= {n for n in names if n.endswith(".h")}
    only_lib = lib_headers - others
    try:
        cmds = json.load(open(os.path.join(build, "compile_commands.json")))
    except OSError as e:
        sys.exit("check_includes: cannot read compile_commands.json in '%s': %s" % (build, e))
    bad, seen = [], 0
    for c in cmds:
        rel = os.path.relpath(os.path.realpath(c["file"]), src)
        if not rel.startswith(TOOL):
            continue
        seen += 1
        args = c.get("arguments") or shlex.split(c["command"])
        incs = [a[2:] for a in args if a.startswith("-I")]
        incs += [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-I", "-isystem")]
        if any(os.path.realpath(os.path.join(c.get("directory", build), i)) == lib for i in incs):
            bad.append("%s: compiled with src/lib on its include path" % rel)
        for no, line in enumerate(open(os.path.join(src, rel), encoding="utf-8"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m and os.path.basename(m.group(1)) in only_lib and "/" not in m.group(1):
                bad.append("%s:%d: includes src/lib's private %s" % (rel, no, m.group(1)))
            if m and m.group(1).startswith("lib/"):
                bad.append("%s:%d: includes src/lib's private %s" % (rel, no, m.group(1)))
    if seen < 10:
        bad.append("only %d tool sources in compile_commands.json: not this tree's build?" % seen)
    for b in bad:
        print("check_includes: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

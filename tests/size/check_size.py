#!/usr/bin/env python3
"""File and function size limits for src/ (issue 9): no file over MAX_FILE lines and no function
over MAX_FUNC lines, except what docs/ARCHITECTURE.md lists under "## Size exceptions".

    check_size.py [--root DIR] [--docs FILE] [--list] [PATH...]

PATHs (files or folders, default ROOT/src) are scanned for .c and .h files.  A function is a body
whose opening brace stands alone at the start of a line outside any other braces (the house
style, .clang-format's Linux braces, puts only function bodies there); its length counts from
that line to the closing brace, braces inside strings, character constants and comments ignored.
An exception is a line of that section starting "- `PATH`" (the whole file) or
"- `PATH:FUNCTION`" (one function), PATH relative to ROOT; the rest of the line says why and
which branch splits it.  An exception that no longer matches anything oversize is reported too
(the list must stay true).  Exit 0 when nothing is over, 1 otherwise (each finding on stderr).
"""
import argparse
import os
import re
import sys

MAX_FILE = 800
MAX_FUNC = 120


def strip_code(text):
    """Text with comments, strings and character constants blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """[(name, first_line, n_lines)] of the function bodies in C source text."""
    lines = strip_code(text).split("\n")
    found, depth, start, name = [], 0, None, None
    for no, line in enumerate(lines, 1):
        if depth == 0 and line.rstrip() == "{":
            start = no
            # the signature: from the nearest line above that starts in column 0
            first = no - 2
            while first > 0 and first > no - 12 and lines[first][:1] in (" ", "\t", ""):
                first -= 1
            m = re.search(r"([A-Za-z_]\w*)\s*\(", " ".join(lines[first:no - 1]))
            name = m.group(1) if m else "?"
        for c in line:
            if c == "{":
                depth += 1
            elif c == "}":
                depth = max(depth - 1, 0)
                if depth == 0 and start is not None:
                    found.append((name, start, no - start + 1))
                    start = None
    return found


def exceptions(docs):
    """The set of 'PATH' and 'PATH:FUNCTION' listed under '## Size exceptions' in docs."""
    ex, inside = set(), False
    try:
        lines = open(docs, encoding="utf-8").read().split("\n")
    except OSError as e:
        sys.exit("check_size: cannot read '%s': %s" % (docs, e.strerror))
    for line in lines:
        if line.startswith("## "):
            inside = line.strip() == "## Size exceptions"
            continue
        m = re.match(r"- `([^`]+)`", line) if inside else None
        if m:
            ex.add(m.group(1))
    return ex


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--docs")
    ap.add_argument("--list", action="store_true", help="print every file's and function's size")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    root = os.path.normpath(a.root)
    docs = a.docs or os.path.join(root, "docs", "ARCHITECTURE.md")
    allowed = exceptions(docs)
    paths = a.paths or [os.path.join(root, "src")]
    files = []
    for p in paths:
        if os.path.isdir(p):
            for d, _, names in os.walk(p):
                files += [os.path.join(d, f) for f in names if f.endswith((".c", ".h"))]
        else:
            files.append(p)
    bad, used = [], set()
    for f in sorted(files):
        rel = os.path.relpath(f, root)
        text = open(f, encoding="utf-8", errors="replace").read()
        n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if a.list:
            print("%6d %s" % (n, rel))
        if n > MAX_FILE:
            if rel in allowed:
                used.add(rel)
            else:
                bad.append("%s: %d lines (limit %d)" % (rel, n, MAX_FILE))
        for name, line, length in functions(text):
            key = "%s:%s" % (rel, name)
            if a.list:
                print("%6d %s:%d %s" % (length, rel, line, name))
            if length > MAX_FUNC:
                if key in allowed or rel in allowed:
                    used.add(key if key in allowed else rel)
                else:
                    bad.append("%s:%d: function %s: %d lines (limit %d)"
                               % (rel, line, name, length, MAX_FUNC))
    if not a.paths:  # the whole tree: every exception must still be needed
        for e in sorted(allowed - used):
            bad.append("%s: listed under 'Size exceptions' in %s but not over the limit: "
                       "remove the line" % (e, os.path.relpath(docs, root)))
    for b in bad:
        print("check_size: " + b, file=sys.stderr)
    if bad:
        print("check_size: %d finding(s); split the code, or list it with why and the branch "
              "that splits it under '## Size exceptions' in docs/ARCHITECTURE.md" % len(bad),
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# summary.md holds level values as data, never as Markdown or HTML (issue 13: '<script>', '|' (an
# extra column) and a newline (a split row) were copied raw): each row of its tables has as many
# unescaped '|' as the header, '<' never starts a tag, and index.html, which renders summary.md,
# shows the values as text.
. "$(dirname "$0")/lib.bash"
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"
cat > "$T/g.yaml" <<Y
name: md
levels:
  tag: ["<script>alert(1)</script>", "a|b", "l1\nl2", "*x*_[y](z)"]
meters: sim
interval_ms: 50
command: [python3, "$W", "1", "0.05"]
Y
jb run "$T/g.yaml" -o "$T/res" --quiet
jb report "$T/res" -o "$T/rep" 2>"$T/rep.err" || { cat "$T/rep.err"; fail "report failed"; }
python3 - "$T/rep/summary.md" "$T/rep/index.html" <<'PY'
import re, sys
md = open(sys.argv[1]).read()
html = open(sys.argv[2]).read()
def cells(line):  # split a GFM row at unescaped '|'
    return re.split(r"(?<!\\)\|", line.strip().strip("|"))
rows = [l for l in md.splitlines() if l.startswith("|")]
assert rows, md
tables, cur = [], []
for l in md.splitlines():
    if l.startswith("|"):
        cur.append(l)
    elif cur:
        tables.append(cur); cur = []
if cur:
    tables.append(cur)
for t in tables:
    n = len(cells(t[0]))
    for l in t:
        assert len(cells(l)) == n, (l, n)
assert "<script>" not in md, md
assert "\\<script\\>alert(1)\\</script\\>" in md, md
assert "a\\|b" in md and "l1 l2" in md, md
# index.html: the values as text, escaped once, no raw tag, no backslashes left.
assert "<script>alert" not in html
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "value not shown as text"
assert "<td>a|b</td>" in html and "<td>l1 l2</td>" in html and "<td>*x*_[y](z)</td>" in html
PY
echo ok

# report_chromium.sh - the report's HTML page in a real browser: headless Chromium (Debian package
# 'chromium') loads index.html from file:// and must log no console message; every figure that
# fig/figures.json lists as drawn must be in the DOM as an inline <svg> and be laid out (a probe
# copy of the page measures each one); a screenshot must not be blank; every fig/*.png must
# decode.  Two report folders: the sample that the unit test driver writes (`test_figures
# --write-sample DIR`: 3 frameworks x 2 data sets x 2 models x 4 batch sizes, three runs overlaid
# in Fig. 1) and a real 'joulebench report' of a small grid on the simulated meter.  With
# JB_SCREENSHOT_DIR set, the screenshots are copied there for a person to look at.
source "$(dirname "$0")/lib.bash"
shopt -s nullglob # a build without cairo has no fig/*.png

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || fail "chromium is not installed (apt-get install chromium)"
DRIVER="$JB_FAKE_DIR/test_figures"
[ -x "$DRIVER" ] || fail "no test driver at $DRIVER"

"$DRIVER" --write-sample "$T" > "$T/driver.out" || fail "the sample report was not written"

# Chromium wants a writable home and profile; a fresh one per run keeps runs apart.
export HOME="$T/home"
mkdir -p "$HOME"
browse() { # browse OUT ERR ARGS... -> runs headless Chromium with a time limit
  local out=$1 err=$2; shift 2
  timeout 60 "$CHROMIUM" --headless --disable-gpu --no-sandbox --no-first-run --disable-dev-shm-usage \
    --user-data-dir="$T/profile" --enable-logging=stderr --v=0 "$@" > "$out" 2> "$err" \
    || { cat "$err" >&2; fail "chromium failed: $*"; }
}

check_page() { # check_page REPORT_DIR TAG: the page of one report folder
  local R=$1 tag=$2 made f
  [ -f "$R/index.html" ] || fail "$tag: no index.html"
  ! grep -Eq 'https?://' "$R/index.html" || fail "$tag: index.html refers to an external address"
  ! grep -q '<img' "$R/index.html" || fail "$tag: index.html loads an image (figures must be inline)"

  # 1. the page as written: DOM, and no console message at all
  browse "$T/dom.html" "$T/dom.err" --dump-dom "file://$R/index.html"
  if grep -q 'CONSOLE' "$T/dom.err"; then
    grep 'CONSOLE' "$T/dom.err" >&2
    fail "$tag: console messages while loading index.html"
  fi
  expect_grep "$tag: page title" '<title>joulebench report (simulated)</title>' "$T/dom.html"
  expect_grep "$tag: simulated banner" 'id="simulated"' "$T/dom.html"
  expect_grep "$tag: provenance" 'id="provenance"' "$T/dom.html"
  made=$(python3 -c '
import json, sys
figs = json.load(open(sys.argv[1]))["figures"]
print(" ".join(f["name"] for f in figs if f["made"]))' "$R/fig/figures.json")
  [ -n "$made" ] || fail "$tag: no figure drawn"
  for f in $made; do
    tr -d '\n' < "$T/dom.html" | grep -q "<figure id=\"fig-$f\"><svg " \
      || fail "$tag: figure $f is not an inline svg in the DOM"
  done

  # 2. every figure is laid out: a copy of the page with a probe script that measures each <svg>
  sed 's#</body>#<script>window.addEventListener("load", function () { var bad = [], n = 0; for (var s of document.querySelectorAll("figure > svg")) { n++; var r = s.getBoundingClientRect(); if (!(r.width > 200 \&\& r.height > 150 \&\& s.querySelector("title"))) bad.push(s.parentNode.id); } console.log("JB-FIGURES n=" + n + " bad=" + bad.join(",")); });</script></body>#' \
    "$R/index.html" > "$R/probe.html"
  browse "$T/probe.out" "$T/probe.err" --virtual-time-budget=5000 --dump-dom "file://$R/probe.html"
  expect_grep "$tag: figure probe ran" "JB-FIGURES n=$(echo $made | wc -w) bad=\"" "$T/probe.err"
  rm -f "$R/probe.html"

  # 3. a screenshot (1280x3000 CSS pixels at half scale, to keep decoding it quick) that shows
  #    text and coloured figures, not a blank page
  browse "$T/shot.out" "$T/shot.err" --hide-scrollbars --window-size=1280,3000 --force-device-scale-factor=0.5 \
    --screenshot="$T/shot-$tag.png" "file://$R/index.html"
  [ -s "$T/shot-$tag.png" ] || fail "$tag: no screenshot"
  if [ -n "${JB_SCREENSHOT_DIR:-}" ]; then cp "$T/shot-$tag.png" "$JB_SCREENSHOT_DIR/"; fi
  python3 "$T/pngcheck.py" "$T/shot-$tag.png" "$R"/fig/*.png || fail "$tag: PNG check failed"
}

cat > "$T/pngcheck.py" <<'PY'
# Decodes PNGs (8-bit grey/RGB/RGBA, not interlaced) with zlib alone and checks their pixels.
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0 and ctype in (0, 2, 4, 6), path + ": unsupported PNG"
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows

def stats(path):
    w, h, bpp, rows = decode(path)
    n = dark = coloured = 0
    s = s2 = 0.0
    for y in range(0, h, 2):
        r = rows[y]
        for x in range(0, w, 2):
            px = r[x * bpp:x * bpp + min(bpp, 3)]
            if bpp < 3:
                px = bytes([px[0]] * 3)
            v = sum(px) / 3
            n += 1; s += v; s2 += v * v
            dark += v < 128
            coloured += max(px) - min(px) > 80
    mean = s / n
    return w, h, s2 / n - mean * mean, dark / n, coloured / n

for i, path in enumerate(sys.argv[1:]):
    w, h, var, dark, col = stats(path)
    print("%s: %dx%d variance %.0f dark %.3f coloured %.3f" % (path, w, h, var, dark, col))
    assert var > 200, path + ": blank (no variance)"
    assert dark > 0.002, path + ": no text or lines"
    if i == 0:
        assert w >= 600 and h >= 1100, "screenshot too small"
        assert col > 0.01, "screenshot: no coloured figure visible"
PY

check_page "$T/report" sample

# a real report of a grid on the simulated meter
W="$(cd "$(dirname "$0")" && pwd)/data/workload.py"
cat > "$T/g.yaml" <<Y
name: browser
levels:
  framework: [alpha, beta]
  batch_size: [32, 64]
repeats: 2
meters: "sim:square=80:240:200:0.5"
idle_baseline_s: 0.2
command: [python3, "$W", "2", "0.2"]
Y
jb run "$T/g.yaml" -o "$T/res" --quiet
jb report "$T/res" >/dev/null 2>&1
check_page "$T/res/report" real
# the carbon and cost table (issue 10, section 3) as the browser renders it: header cells and
# the factors' sources, no console message (check_page)
jb report "$T/res" -o "$T/res/report-co2" --carbon-intensity 400 --price 0.30EUR --pue 1.2 >/dev/null 2>&1
check_page "$T/res/report-co2" carbon
tr -d '\n' < "$T/dom.html" | grep -q '<th>kg CO2e per run</th>' || fail "carbon: no 'kg CO2e per run' column in the DOM"
expect_grep "carbon: the intensity and its source" '400 g CO2e/kWh (command line' "$T/dom.html"
echo "ok"

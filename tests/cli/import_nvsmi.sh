# 'joulebench import nvidia-smi': one log with levels, a header-less log named by --fields,
# malformed rows (FILE:LINE warnings and a count; --strict rejects), usage errors.
source "$(dirname "$0")/lib.bash"
cat >"$T/e.csv" <<'CSV'
timestamp, power.draw [W], temperature.gpu, utilization.gpu [%], clocks.sm [MHz]
2026/01/02 10:00:00.000, 100.00 W, 40, 50 %, 1500 MHz
2026/01/02 10:00:01.000, [N/A], 41, [Not Supported], 1500 MHz
2026/01/02 10:00:02.000, 200.00 W, 42, 90 %, 1600 MHz
2026/01/02 10:00:03.000, garbage W, 42, 90 %, 1600 MHz
2026/01/02 10:00:04.000, 200.00 W, 43, 90 %, 1600 MHz
CSV
cat >"$T/m.csv" <<'CSV'
epoch;precision;recall;accuracy;f1;timestamp
0;0.1;0.1;0.25;0.1;2026-01-02 10:00:02
1;0.2;0.2;0.50;0.2;2026-01-02 10:00:04
CSV
jb import nvidia-smi "$T/e.csv" --epochs "$T/m.csv" --levels framework=jax,batch_size=64 \
  -o "$T/run" >"$T/out" 2>"$T/err"
expect_grep "bad row named" "e.csv:5: field 'power.draw" "$T/err"
expect_grep "count" "1 malformed row(s) skipped" "$T/err"
expect_eq "samples" "$(wc -l <"$T/run/samples.csv")" 5
expect_eq "sample header" "$(head -1 "$T/run/samples.csv")" \
  "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,sm_clock_mhz,mem_clock_mhz,power_instant_w"
# [N/A] power and [Not Supported] utilisation are empty cells, never 0.
expect_eq "N/A row" "$(sed -n 3p "$T/run/samples.csv")" "1.000000,gpu0,,,41,,,,1500,,"
# Epoch 1 [0, 2] s: 100 -> 200 W bridged over the missing sample: 300 J.
expect_eq "epoch 1" "$(grep '^epoch,1,' "$T/run/phases.csv" | cut -d, -f8)" 300
expect_eq "epoch 2" "$(grep '^epoch,2,' "$T/run/phases.csv" | cut -d, -f8)" 400
expect_grep "metric" "eval,2,accuracy,0.5" "$T/run/metrics.csv"
expect_grep "levels" '"batch_size": "64"' "$T/run/manifest.json"
expect_grep "source" '"source": "nvidia-smi"' "$T/run/manifest.json"
expect_grep "complete" '"status": "complete"' "$T/run/manifest.json"
expect_grep "imported_from" "\"energy\": \"$T/e.csv\"" "$T/run/manifest.json"

# --strict: the malformed row is an error naming file and line; nothing half-written remains.
if jb import nvidia-smi "$T/e.csv" --strict -o "$T/strict" 2>"$T/err2"; then fail "strict accepted"; fi
expect_grep "strict message" "e.csv:5:" "$T/err2"
[ ! -e "$T/strict/manifest.json" ] || fail "strict left a manifest"

# Units are converted or the row refused (issue 13: "36.72 kW" was 36.72 W even with --strict);
# negative power and a row dated 9999 are refused; FILE:LINE: field in both modes.
cat >"$T/u.csv" <<'CSV'
timestamp, power.draw [W], memory.used [MiB]
2026/01/02 10:00:00.000, 0.1 kW, 1 GiB
2026/01/02 10:00:01.000, 36.72 kW, 1 GiB
2026/01/02 10:00:02.000, -3 W, 1 GiB
9999/01/02 10:00:03.000, 100 W, 1 GiB
2026/01/02 10:00:04.000, 100000 mW, 1024 MiB
CSV
jb import nvidia-smi "$T/u.csv" -o "$T/u" >"$T/out" 2>"$T/err"
expect_grep "kW refused" "u.csv:3: field 'power.draw \[W\]': 36720 W is out of range" "$T/err"
expect_grep "negative refused" "u.csv:4: field 'power.draw \[W\]': -3 W is negative" "$T/err"
expect_grep "year 9999 refused" "u.csv:5: field 'timestamp': not a year from 1970 to 2199" "$T/err"
expect_grep "count" "3 malformed row(s) skipped" "$T/err"
expect_eq "converted rows" "$(cut -d, -f3,8 "$T/u/samples.csv" | tail -n +2 | tr '\n' ' ')" \
  "100,1024 100,1024 "
expect_eq "energy over 4 s at 100 W" "$(grep '^command,' "$T/u/phases.csv" | cut -d, -f8)" 400
if jb import nvidia-smi "$T/u.csv" --strict -o "$T/u2" 2>"$T/err"; then fail "strict took kW"; fi
expect_grep "strict kW" "u.csv:3: field 'power.draw \[W\]': 36720 W is out of range" "$T/err"

# --batch: --grid is a grid name (issue 13: '../../escape' wrote outside the results folder),
# and run ids made of file names are sanitised as the runner's are.
mkdir -p "$T/b/sub" "$T/res"
cp "$T/e.csv" "$T/b/run1-gpu-epoch1-batchsize64-py torch-\$x;y-.hidden-ENERGY.csv"
cp "$T/e.csv" "$T/b/sub/run2-gpu-epoch1-batchsize64-..-..-..-ENERGY.csv"
# names starting with '.' are skipped at every level (the folder walk: nftw)
mkdir -p "$T/b/.git/x" && cp "$T/e.csv" "$T/b/.git/x/run3-gpu-epoch1-batchsize64-a-b-c-ENERGY.csv"
cp "$T/e.csv" "$T/b/sub/.run4-gpu-epoch1-batchsize64-a-b-c-ENERGY.csv"
for g in ../../escape a/b .hidden "" ..; do
  set +e; jb import nvidia-smi --batch "$T/b" --grid "$g" -o "$T/res/x/y" >/dev/null 2>"$T/err"; rc=$?; set -e
  expect_eq "exit of --grid '$g'" "$rc" 2
  expect_grep "message of --grid '$g'" "not a grid name" "$T/err"
done
[ ! -e "$T/res/x" ] && [ ! -e "$T/escape" ] || fail "a refused --grid wrote something"
jb import nvidia-smi --batch "$T/b" --grid g1 -o "$T/res" >"$T/out" 2>"$T/err"
expect_eq "sanitised run ids" "$(LC_ALL=C ls -A "$T/res/g1" | tr '\n' ' ')" \
  "_.-..-..-64-r2 py_torch-_x_y-.hidden-64-r1 "
expect_grep "levels kept as written" '"framework": "py torch"' \
  "$T/res/g1/py_torch-_x_y-.hidden-64-r1/manifest.json"

# Header-less, unit-less, another order: named by --fields.
printf '%s\n' "1500, 2026/01/02 10:00:00.500, 50" "1500, 2026/01/02 10:00:01.500, 70" >"$T/nh.csv"
jb import nvidia-smi "$T/nh.csv" --fields clocks.sm,timestamp,power.draw -o "$T/nh" >/dev/null
expect_eq "command energy" "$(grep '^command,' "$T/nh/phases.csv" | cut -d, -f8)" 60

# Usage errors exit 2; unreadable input exits 1.
set +e
jb import nvidia-smi "$T/e.csv" >/dev/null 2>&1; expect_eq "no -o" $? 2
jb import perf "$T/e.csv" -o "$T/x" >/dev/null 2>&1; expect_eq "bad source" $? 2
jb import nvidia-smi "$T/missing.csv" -o "$T/x" >/dev/null 2>"$T/err3"; expect_eq "missing" $? 1
set -e
expect_grep "missing message" "missing.csv" "$T/err3"
echo ok

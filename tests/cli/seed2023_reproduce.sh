# 'import nvidia-smi --batch' of the reference study's CIFAR10 files, then 'report --method
# seed-2023', must reproduce every row of expected-cifar10-seed-method.csv (energy 0.01 kJ, power
# and utilisation 0.01, time 0.1 s, accuracy 0.001), with exactly its columns.
source "$(dirname "$0")/lib.bash"
SEED="${JB_SOURCE_DIR:?}/tests/data/seed-2023" # a copy in the tree (its README: provenance)
[ -d "$SEED/nvidia-smi-runs" ] || fail "no seed data at $SEED"
tr -d '\r' <"$SEED/expected-cifar10-seed-method.csv" >"$T/expected.csv"
jb import nvidia-smi --batch "$SEED/nvidia-smi-runs" -o "$T/res" >"$T/imp.out" 2>"$T/imp.err"
expect_grep "import summary" "imported 48 run(s)" "$T/imp.out"
[ -f "$T/res/seed-2023-import/pytorch-CIFAR10-resnet50-32-r1/manifest.json" ] || fail "run dir"
jb report "$T/res" --method seed-2023 -o "$T/rep" >"$T/rep.out" 2>"$T/rep.err"
expect_eq "header" "$(head -1 "$T/rep/configs.csv")" "$(head -1 "$T/expected.csv")"
expect_eq "rows" "$(wc -l <"$T/rep/configs.csv")" "$(wc -l <"$T/expected.csv")"
awk -F, 'NR == FNR { if (FNR > 1) want[$1","$2","$3","$4] = $0; next }
  FNR == 1 { next }
  { k = $1","$2","$3","$4; if (!(k in want)) { print "unexpected row " k; bad = 1; next }
    split(want[k], w, ","); seen[k] = 1
    tol[5] = 0.01; tol[6] = 0.01; tol[7] = 0.01; tol[8] = 0.001; tol[9] = 0.1
    for (i = 5; i <= 9; i++) { d = $i - w[i]; if (d < 0) d = -d
      if ($i == "" || d > tol[i] + 1e-9) { print k ": column " i " got " $i " want " w[i]; bad = 1 } } }
  END { for (k in want) if (!(k in seen)) { print "missing row " k; bad = 1 }; exit bad }' \
  "$T/expected.csv" "$T/rep/configs.csv" || fail "seed-2023 does not reproduce the study"
expect_grep "report.json method" '"method": "seed-2023"' "$T/rep/report.json"
echo ok

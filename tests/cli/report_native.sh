# 'report' on a hand-written native run directory: a GPU meter with an energy counter (which must
# win over the power integral), a CPU meter, startup/epoch/eval phases with items, an idle
# baseline and accuracy metrics.  Every expected number is worked out in the comments.
source "$(dirname "$0")/lib.bash"
R="$T/res/g/native-r1"
mkdir -p "$R"
cat >"$R/manifest.json" <<'JSON'
{"format": "joulebench-run/1", "run_id": "native-r1", "grid": "g",
 "levels": {"framework": "native", "batch_size": "64"}, "repeat": 1, "command_start_s": 0,
 "meters": [{"id": "gpu0", "kind": "gpu", "energy_source": "counter"},
            {"id": "cpu-package0", "kind": "cpu", "energy_source": "counter"}],
 "idle": {"duration_s": 10, "meters": {"gpu0": {"avg_power_w": 50, "energy_j": 500}}},
 "status": "complete", "some_future_key": [1, 2]}
JSON
{
  echo "t_s,meter,power_w,energy_j,temp_c,util_pct,mem_util_pct,mem_used_mib,sm_clock_mhz,mem_clock_mhz,power_instant_w"
  # gpu0: 100 W by its power samples, 110 W by its counter; cpu: 20 W counter only.
  for t in 0 1 2 3 4 5 6 7 8 9 10; do
    echo "$t.000000,gpu0,100,,60,40,,,,,"
    echo "$t.000000,gpu0,,$((110 * t)),,,,,,,"
    echo "$t.000000,cpu-package0,,$((20 * t)),,,,,,,"
  done
} >"$R/samples.csv"
cat >"$R/phases.csv" <<'CSV'
phase,index,meter,t_begin_s,t_end_s,duration_s,energy_j,energy_j_power,avg_power_w,items
command,0,gpu0,0,10,10,1100,1000,110,
command,0,cpu-package0,0,10,10,200,,20,
startup,0,gpu0,0,2,2,220,200,110,
epoch,1,gpu0,2,5,3,330,300,110,300
eval,1,gpu0,5,6,1,110,100,110,
epoch,2,gpu0,6,9,3,330,300,110,300
eval,2,gpu0,9,10,1,110,100,110,
CSV
printf 'phase,index,name,value\neval,1,accuracy,0.4\neval,2,accuracy,0.6\n' >"$R/metrics.csv"

jb report "$T/res" --target-accuracy 0.5 --no-figures -o "$T/rep" >/dev/null
C="$T/rep/configs.csv"
v() { # v COLUMN -> the value in the first data row
  awk -F, -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i } NR == 2 { print $k }' "$C"
}
expect_near "energy (counter, not power)" "$(v energy_j_mean)" 1100 1e-9
expect_near "time" "$(v time_s_mean)" 10 1e-9
expect_near "avg power" "$(v avg_power_w_mean)" 110 1e-9
expect_near "epoch 1 energy" "$(v epoch1_energy_j_mean)" 330 1e-9
expect_near "epoch 1 power" "$(v epoch1_avg_power_w_mean)" 110 1e-9
expect_near "rest power" "$(v rest_avg_power_w_mean)" 110 1e-9
expect_near "startup" "$(v startup_energy_j_mean)" 220 1e-9
expect_near "eval" "$(v eval_energy_j_mean)" 220 1e-9
expect_near "util" "$(v gpu_util_pct_mean)" 40 1e-9
expect_near "accuracy" "$(v final_accuracy_mean)" 0.6 1e-12
expect_near "per image: 660 J / 600 images" "$(v energy_per_image_j_mean)" 1.1 1e-9
expect_near "net: 1100 - 50 W x 10 s" "$(v net_energy_j_mean)" 600 1e-9
expect_near "cpu" "$(v cpu_energy_j_mean)" 200 1e-9
expect_near "to target (counter to eval 2 end)" "$(v energy_to_target_j_mean)" 1100 1e-9
expect_eq "one run: no sd" "$(v energy_j_sd)" ""
expect_eq "one run: no ci" "$(v energy_j_ci95)" ""
expect_grep "meters" '"cpu_energy_j": \[' "$T/rep/report.json"
# Epoch rows: counter and power integral side by side.
expect_eq "epoch row" "$(sed -n 2p "$T/rep/epochs.csv" | cut -d, -f3-13)" \
  "native-r1,1,1,2.000000,5.000000,3.000000,330,300,110,40,60"

# seed-2023 on a native run: epoch 1 = [command start, end of eval 1] = 6 s of 100 W samples,
# epoch 2 = (6, 10] s: 400 J; 1.000 kJ, 10 s.
jb report "$T/res" --method seed-2023 --no-figures -o "$T/seed" >/dev/null
expect_eq "seed row" "$(sed -n 2p "$T/seed/configs.csv")" "native,64,1.000,100.00,40.00,0.600,10.0"
echo ok

#!/bin/bash
# SPDX-License-Identifier: MIT
# eia-run and eia-bench (the ASan/UBSan builds) against a real gpud (the ASan
# build, or $EIA_GPUD) on 127.0.0.1 over tcp://, printing TAP:
#
#   - eia-run's outputs equal torch's reference outputs (1e-4 absolute +
#     1e-3 relative) for ResNet-18 and both small GPTs (the op13 one has
#     symbolic dims, bound from the input file);
#   - eia-bench prints every field with consistent numbers (min <= P50 <=
#     P90 <= P95 <= max, min <= mean <= max, throughput = 1000 / mean, the
#     cost line recomputed from the printed mean and price), valid --json,
#     a progress bar on a terminal and plain lines elsewhere, and makes up
#     a 7-token input for the GPT when given none;
#   - bad arguments and inputs give a clear message and exit status 2
#     (usage) or 1 (failure), never a crash.
#
# Environment: EIA_TOOLS_BIN (where eia-run and eia-bench are), EIA_GPUD,
# EIA_MODELS (the exported models), PYTHON (with python3-onnx; default
# /usr/bin/python3).
set -uo pipefail

bin=${EIA_TOOLS_BIN:?EIA_TOOLS_BIN not set}
gpud=${EIA_GPUD:?EIA_GPUD not set}
models=${EIA_MODELS:?EIA_MODELS not set}
python=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/eia-test-tools.XXXXXX")
gpud_pid=""

cleanup() {
	if [ -n "$gpud_pid" ]; then
		kill -TERM "$gpud_pid" 2>/dev/null
		wait "$gpud_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

n=0 failed=0
ok() {
	n=$((n + 1))
	echo "ok $n $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}
# check NAME CMD...: ok when CMD succeeds; else its output as diagnostics.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		mapfile -t lines <<<"$out"
		not_ok "$name" "${lines[@]}"
	fi
}

# Sanitizer reports anywhere in @1 fail the test that produced it.
sanitizer_clean() {
	! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"
}

start_gpud() {
	local tries
	"$gpud" --listen 127.0.0.1:0 --threads 2 >"$work/gpud.log" 2>&1 &
	gpud_pid=$!
	for tries in $(seq 200); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/gpud.log")
		[ -n "$port" ] && return 0
		kill -0 "$gpud_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! gpud did not start ($gpud, $tries tries):"
	sed 's/^/# /' "$work/gpud.log"
	exit 1
}

for prog in eia-run eia-bench; do
	[ -x "$bin/$prog" ] || { echo "Bail out! $bin/$prog not built"; exit 1; }
done
for m in resnet18 gpt-small gpt-small-op13; do
	[ -f "$models/$m/model.onnx" ] ||
		{ echo "Bail out! $models/$m missing: run scripts/make-models"; exit 1; }
done
echo "TAP version 13"
echo "1..30"
start_gpud
dev="tcp://127.0.0.1:$port?type=eia2.medium"

# Compare two TensorProto files within the runner's tolerance.
same_tensor() {
	"$python" - "$1" "$2" <<'PY'
import sys
import numpy as np
import onnx
import onnx.numpy_helper as nh

got = nh.to_array(onnx.load_tensor(sys.argv[1]))
want = nh.to_array(onnx.load_tensor(sys.argv[2]))
if got.shape != want.shape or got.dtype != want.dtype:
    sys.exit(f"got {got.dtype}{list(got.shape)}, want {want.dtype}{list(want.shape)}")
diff = np.abs(got.astype(np.float64) - want)
bad = int(np.count_nonzero(~(diff <= 1e-4 + 1e-3 * np.abs(want))))
print(f"{got.size} values, {bad} outside tolerance, largest difference {diff.max():.3g}")
sys.exit(1 if bad else 0)
PY
}

run_matches() {
	local m=$1 data=$models/$1/test_data_set_0
	"$bin/eia-run" --device "$dev" --model "$models/$m/model.onnx" \
		--input "$data/input_0.pb" --output "$work/$m.pb" >"$work/run.out" 2>&1 ||
		{ cat "$work/run.out"; return 1; }
	sanitizer_clean "$work/run.out" || { cat "$work/run.out"; return 1; }
	grep -q " -> $work/$m.pb\$" "$work/run.out" || { cat "$work/run.out"; return 1; }
	same_tensor "$work/$m.pb" "$data/output_0.pb"
}

for m in resnet18 gpt-small gpt-small-op13; do
	check "eia-run $m matches torch" run_matches "$m"
done

# Field NAME's value in the text output @2 (the first word after the colon).
field() {
	sed -n "s|^$1: \([^ ]*\).*|\1|p" "$2"
}

# The text report is complete and consistent.
bench_report_sane() {
	local out=$1
	local mean p50 p90 p95 min max tput price cost
	mean=$(field 'Mean latency (ms)' "$out")
	p50=$(field 'P50 latency (ms)' "$out")
	p90=$(field 'P90 latency (ms)' "$out")
	p95=$(field 'P95 latency (ms)' "$out")
	min=$(field 'Min latency (ms)' "$out")
	max=$(field 'Max latency (ms)' "$out")
	tput=$(field 'Throughput (inferences/s)' "$out")
	price=$(field 'Price per hour (USD)' "$out")
	cost=$(field 'Cost per 100,000 inferences (USD)' "$out")
	for v in mean p50 p90 p95 min max tput price cost; do
		[ -n "${!v}" ] || { echo "no $v in:"; cat "$out"; return 1; }
	done
	"$python" - "$mean" "$p50" "$p90" "$p95" "$min" "$max" "$tput" "$price" "$cost" <<'PY'
import sys
s = sys.argv[1:]
mean, p50, p90, p95, mn, mx, tput, price = map(float, s[:8])
want_cost = "%.5f" % (mean / 3.6e6 * price * 1e5)
checks = [
    ("0 < min", 0 < mn),
    ("min <= mean <= max", mn <= mean <= mx),
    ("min <= P50 <= P90 <= P95 <= max", mn <= p50 <= p90 <= p95 <= mx),
    ("throughput = 1000 / mean", abs(tput - 1000 / mean) <= 0.006 + 1e-3 * tput),
    (f"cost {s[8]} = mean / 3.6e6 * price * 1e5 = {want_cost}", s[8] == want_cost),
]
bad = [name for name, good in checks if not good]
print("mean %s P50 %s P90 %s P95 %s min %s max %s tput %s price %s cost %s" % tuple(s))
for name in bad:
    print("failed:", name)
sys.exit(1 if bad else 0)
PY
}

bench_text() {
	"$bin/eia-bench" --device "$dev" --model "$models/resnet18/model.onnx" --runs 20 \
		--input "$models/resnet18/test_data_set_0/input_0.pb" >"$work/bench.out" \
		2>"$work/bench.err" || { cat "$work/bench.out" "$work/bench.err"; return 1; }
	sanitizer_clean "$work/bench.err" || { cat "$work/bench.err"; return 1; }
	grep -q '^eia-bench: .* (eia2.medium), 20 inferences after 1 discarded$' "$work/bench.out" ||
		{ cat "$work/bench.out"; return 1; }
	grep -q '^Price per hour (USD): 0.205 (c5.large client 0.085 + eia2.medium 0.120)$' \
		"$work/bench.out" || { cat "$work/bench.out"; return 1; }
	bench_report_sane "$work/bench.out"
}
check "eia-bench prints every field, consistent (ResNet-18, 20 runs)" bench_text

# Not a terminal: a plain line at every tenth, nothing redrawn.
plain_progress() {
	if [ "$(grep -c '^eia-bench: [0-9]*/20 inferences$' "$work/bench.err")" != 10 ] ||
	   grep -q $'\r' "$work/bench.err"; then
		cat "$work/bench.err"
		return 1
	fi
}
check "eia-bench: plain progress lines when stderr is not a terminal" plain_progress

# A terminal (script(1) gives it one): a bar redrawn with carriage returns.
bar_progress() {
	local cmd
	printf -v cmd '%q ' "$bin/eia-bench" --device "$dev" --runs 5 \
		--model "$models/resnet18/model.onnx"
	TERM=xterm script -qec "$cmd" /dev/null >"$work/tty.out" 2>&1 ||
		{ cat "$work/tty.out"; return 1; }
	if ! grep -q $'\r\\[#*\\.*\\] 5/5' "$work/tty.out" ||
	   grep -q 'inferences$' "$work/tty.out"; then
		cat -A "$work/tty.out"
		return 1
	fi
}
check "eia-bench: a progress bar on a terminal" bar_progress

bench_price() {
	"$bin/eia-bench" --device "$dev" --model "$models/resnet18/model.onnx" --runs 5 \
		--price-per-hour 1.5 >"$work/price.out" 2>&1 || { cat "$work/price.out"; return 1; }
	grep -q '^Price per hour (USD): 1.5 (--price-per-hour)$' "$work/price.out" ||
		{ cat "$work/price.out"; return 1; }
	bench_report_sane "$work/price.out"
}
check "eia-bench --price-per-hour overrides the table" bench_price

bench_json() {
	"$bin/eia-bench" --device "$dev" --model "$models/resnet18/model.onnx" --runs 10 \
		--json >"$work/bench.json" 2>"$work/json.err" || { cat "$work/json.err"; return 1; }
	[ ! -s "$work/json.err" ] || { echo "stderr not empty:"; cat "$work/json.err"; return 1; }
	"$python" - "$work/bench.json" <<'PY'
import json
import sys
with open(sys.argv[1]) as f:
    text = f.read()
r = json.loads(text)
keys = ["model", "device", "type", "runs", "discarded", "mean_ms", "p50_ms", "p90_ms",
        "p95_ms", "min_ms", "max_ms", "stddev_ms", "throughput_per_s", "price_per_hour",
        "price_from", "cost_per_100k"]
missing = [k for k in keys if k not in r]
checks = [
    ("every key", not missing),
    ("runs 10, 1 discarded", r.get("runs") == 10 and r.get("discarded") == 1),
    ("type eia2.medium", r.get("type") == "eia2.medium"),
    ("min <= mean <= max", r["min_ms"] <= r["mean_ms"] <= r["max_ms"]),
    ("P50 <= P90 <= P95", r["min_ms"] <= r["p50_ms"] <= r["p90_ms"] <= r["p95_ms"] <= r["max_ms"]),
    ("price 0.205", abs(r["price_per_hour"] - 0.205) < 1e-9),
    ("cost from mean", abs(r["cost_per_100k"] - r["mean_ms"] / 3.6e6 * 0.205 * 1e5) < 1e-7),
]
bad = [name for name, good in checks if not good]
print(text.strip())
for name in bad:
    print("failed:", name, missing)
sys.exit(1 if bad else 0)
PY
}
check "eia-bench --json is one valid object with every figure" bench_json

# No --input: 7 made-up token ids, for the fixed-shape and the symbolic GPT.
bench_gpt_synthetic() {
	local m
	for m in gpt-small gpt-small-op13; do
		"$bin/eia-bench" --device "$dev" --model "$models/$m/model.onnx" --runs 3 \
			--json >"$work/gpt.json" 2>&1 || { cat "$work/gpt.json"; return 1; }
		"$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["runs"] != 3)' \
			"$work/gpt.json" || { cat "$work/gpt.json"; return 1; }
	done
}
check "eia-bench makes up a 7-token input for both GPTs" bench_gpt_synthetic

# expect_fail NAME STATUS NEEDLE CMD...: CMD exits with STATUS, its stderr
# holds NEEDLE, and no sanitizer complained.
expect_fail() {
	local name=$1 want=$2 needle=$3 rc
	shift 3
	"$@" >"$work/fail.out" 2>"$work/fail.err"
	rc=$?
	if [ "$rc" = "$want" ] && grep -qF -- "$needle" "$work/fail.err" &&
	   sanitizer_clean "$work/fail.err"; then
		ok "$name: $(head -n1 "$work/fail.err")"
	else
		mapfile -t lines <"$work/fail.err"
		not_ok "$name" "exit status $rc (want $want), stderr (want '$needle'):" "${lines[@]}"
	fi
}

r18=$models/resnet18/model.onnx
r18_in=$models/resnet18/test_data_set_0/input_0.pb
gpt_in=$models/gpt-small/test_data_set_0/input_0.pb
printf 'not a model' >"$work/junk.onnx"
head -c 100000 "$r18" >"$work/truncated.onnx"

expect_fail "eia-bench without --model" 2 "--model is required" \
	"$bin/eia-bench" --device "$dev"
expect_fail "eia-bench --runs 0" 2 "--runs: '0' is not a whole number" \
	"$bin/eia-bench" --device "$dev" --model "$r18" --runs 0
expect_fail "eia-bench --runs 12abc" 2 "--runs: '12abc'" \
	"$bin/eia-bench" --device "$dev" --model "$r18" --runs 12abc
expect_fail "eia-bench --price-per-hour -1" 2 "--price-per-hour: '-1' is not a price" \
	"$bin/eia-bench" --device "$dev" --model "$r18" --price-per-hour -1
expect_fail "eia-bench --shape 1xx7" 2 "--shape '1xx7'" \
	"$bin/eia-bench" --device "$dev" --model "$r18" --shape 1xx7
expect_fail "eia-bench --shape for no such input" 1 "has no input named 'nosuch'" \
	"$bin/eia-bench" --device "$dev" --model "$r18" --shape nosuch=1x7
expect_fail "eia-bench with an unknown option" 2 "unknown option '--frobnicate'" \
	"$bin/eia-bench" --frobnicate
expect_fail "eia-run without --output" 2 "--output is required" \
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$r18_in"
expect_fail "eia-run without --device" 2 "--device is required" \
	"$bin/eia-run" --model "$r18" --input "$r18_in" --output "$work/o.pb"
expect_fail "eia-run with a missing model" 1 "$work/none.onnx: No such file" \
	"$bin/eia-run" --device "$dev" --model "$work/none.onnx" --input "$r18_in" \
	--output "$work/o.pb"
expect_fail "eia-run with a file that is not a model" 1 "not an ONNX model" \
	"$bin/eia-run" --device "$dev" --model "$work/junk.onnx" --input "$r18_in" \
	--output "$work/o.pb"
expect_fail "eia-run with a truncated model" 1 "truncated.onnx: " \
	"$bin/eia-run" --device "$dev" --model "$work/truncated.onnx" --input "$r18_in" \
	--output "$work/o.pb"
expect_fail "eia-run with no input file" 1 "has no --input file" \
	"$bin/eia-run" --device "$dev" --model "$r18" --output "$work/o.pb"
expect_fail "eia-run with token ids for an image model" 1 "a I64[1,7] tensor, but model input" \
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$gpt_in" --output "$work/o.pb"
expect_fail "eia-run with a junk input file" 1 "--input: " \
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$work/junk.onnx" \
	--output "$work/o.pb"
expect_fail "eia-run with more outputs than the model has" 1 "2 --output or --expect files, but" \
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$r18_in" --output "$work/a.pb" \
	--output "$work/b.pb"
# --expect: eia-run compares an output with a reference itself (used where
# no Python is at hand, e.g. inside the VM).
expect_matches() {
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$r18_in" \
		--expect "$models/resnet18/test_data_set_0/output_0.pb" >"$work/exp.out" 2>&1 &&
		sanitizer_clean "$work/exp.out" && grep -q '^output matches ' "$work/exp.out" ||
		{ cat "$work/exp.out"; return 1; }
}
check "eia-run --expect resnet18 matches torch's output" expect_matches
"$python" - "$models/resnet18/test_data_set_0/output_0.pb" "$work/perturbed.pb" <<'PY'
import sys
import onnx
import onnx.numpy_helper as nh

t = nh.to_array(onnx.load_tensor(sys.argv[1])).copy()
t.flat[7] += 0.01
with open(sys.argv[2], "wb") as f:
    f.write(nh.from_array(t, "output").SerializeToString())
PY
expect_fail "eia-run --expect with one value off by 0.01" 1 "1 of 1000 values differ" \
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$r18_in" \
	--expect "$work/perturbed.pb"
expect_fail "eia-run --expect with another model's output" 1 "shape or type differs" \
	"$bin/eia-run" --device "$dev" --model "$r18" --input "$r18_in" \
	--expect "$models/gpt-small/test_data_set_0/output_0.pb"
expect_fail "eia-run with nothing listening" 1 "device tcp://127.0.0.1:1: " \
	"$bin/eia-run" --device tcp://127.0.0.1:1 --model "$r18" --input "$r18_in" \
	--output "$work/o.pb"

kill -TERM "$gpud_pid" 2>/dev/null
wait "$gpud_pid" 2>/dev/null
gpud_pid=""
if sanitizer_clean "$work/gpud.log"; then
	ok "gpud: no sanitizer report"
else
	not_ok "gpud: no sanitizer report" "$(grep -E -A20 'Sanitizer|runtime error' "$work/gpud.log")"
fi
echo "# $((n - failed)) passed, $failed failed of $n"
[ "$n" = 30 ] || { echo "# planned 30 tests, ran $n"; exit 1; }
[ "$failed" = 0 ]

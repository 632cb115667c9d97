# shellcheck shell=sh
# Runs inside the VM (scripts/check: tests/vm/run --share build/models): the
# exported models on eia0, through eia.ko and gpud, each output compared with
# torch's reference by eia-run --expect. TAP on stdout.
models="resnet18 gpt-small gpt-small-op13"
echo "TAP version 13"
echo "1..3"
eia attach --server "$EIA_SERVER" --type eia2.medium >/dev/null || {
	echo "Bail out! eia attach failed"
	exit 1
}
n=0
fail=0
for m in $models; do
	n=$((n + 1))
	d=$EIA_SHARE/$m
	if eia-run --device eia0 --model "$d/model.onnx" --input "$d/test_data_set_0/input_0.pb" \
		--expect "$d/test_data_set_0/output_0.pb" >/tmp/eia-run.out 2>&1; then
		sed 's/^/# /' /tmp/eia-run.out
		echo "ok $n $m on eia0 matches torch's output"
	else
		sed 's/^/# /' /tmp/eia-run.out
		echo "not ok $n $m on eia0 matches torch's output"
		fail=1
	fi
done
exit $fail

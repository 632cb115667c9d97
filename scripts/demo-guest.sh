# shellcheck shell=sh
# Runs inside the VM (tests/vm/run --host-gpud --share build/models): attach
# an accelerator from gpud on the host, show it, and benchmark a model on it.
# EIA_SERVER is gpud's address as the guest sees it, EIA_SHARE the shared
# models; scripts/demo sets EIA_DEMO_MODEL and EIA_DEMO_RUNS.
set -e
step() { printf '\n==> %s\n' "$*"; }

step "eia.ko is loaded in Debian's $(uname -r) kernel"
grep '^eia ' /proc/modules

step "gpud (on the host) offers: eia server-status --server $EIA_SERVER"
eia server-status --server "$EIA_SERVER"

step "eia attach --server $EIA_SERVER --type eia2.medium"
dev=$(eia attach --server "$EIA_SERVER" --type eia2.medium)
echo "$dev"
ls -l "/dev/$dev"

step "eia list"
eia list

step "eia describe-accelerators --json"
eia describe-accelerators --json

step "sysfs: /sys/class/eia/$dev"
for attr in type accelerator_id status server memory_total_bytes memory_used_bytes \
	    fp32_tflops fp16_tflops timeout_ms requests errors bytes_sent bytes_received; do
	printf '%-20s %s\n' "$attr" "$(cat "/sys/class/eia/$dev/$attr")"
done

# The benchmark of the PyTorch Elastic Inference article, on the
# accelerator just attached: the model from the host's build/models (a
# read-only 9p share), its reference 7-token input, one inference discarded,
# then EIA_DEMO_RUNS timed.
model=$EIA_SHARE/$EIA_DEMO_MODEL
step "eia-bench --device $dev --model $model/model.onnx --runs $EIA_DEMO_RUNS"
eia-bench --device "$dev" --model "$model/model.onnx" \
	--input "$model/test_data_set_0/input_0.pb" --runs "$EIA_DEMO_RUNS"

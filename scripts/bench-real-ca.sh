#!/usr/bin/env bash
# The mock under the real cluster-autoscaler at the bench shape (1,000 nodes, 30,000 pods):
# how long serve takes to answer the autoscaler's first LIST of pods, how long until its
# first loop ends, and serve's memory. Bounded: it stops both processes after the first loop
# (or after LIMIT half-seconds, default 600: 5 minutes). Usage: bash scripts/bench-real-ca.sh [MAGSIM] [CLUSTER_AUTOSCALER]
set -euo pipefail
cd "$(dirname "$0")/.."

magsim=${1:-target/x86_64-unknown-linux-gnu/release/magsim}
ca=${2:-${MAGSIM_CA_CLUSTERAPI:-target/ca/cluster-autoscaler-clusterapi}}
if [ ! -x "$ca" ]; then
  mkdir -p target/ca
  gzip -dc ../shared/tools/cluster-autoscaler-1.30.2/cluster-autoscaler-clusterapi.gz > "$ca"
  chmod +x "$ca"
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; cp "$work/serve.log" "$work/ca.log" target/ 2>/dev/null; rm -rf "$work"' EXIT

cp scripts/bench-shape.yaml "$work/shape.yaml"

start=$(date +%s.%N)
"$magsim" serve "$work/shape.yaml" --no-autoscaler --dir "$work/cloud" > "$work/serve.out" 2> "$work/serve.log" &
serve=$!
until grep -q '^export ' "$work/serve.out" 2>/dev/null; do sleep 0.2; done
ready=$(date +%s.%N)
"$ca" --cloud-provider=clusterapi --kubeconfig="$work/cloud/kubeconfig" --namespace=kube-system \
  --address=127.0.0.1:0 --v=2 > "$work/ca.log" 2>&1 &
ca_start=$(date +%s.%N)
for _ in $(seq "${LIMIT:-600}"); do
  grep -q 'Calculating unneeded nodes\|Scale down status' "$work/ca.log" && break
  sleep 0.5
done
loop=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$serve/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$serve/status")
first_list=$(grep -m1 -E 'kubernetes GET /api/v1/pods [0-9]{3} ' "$work/serve.log" || true)
echo "serve ready after        $(awk "BEGIN {printf \"%.1f\", $ready - $start}") s"
echo "first LIST of pods       ${first_list##*/api/v1/pods }"
echo "first loop done after    $(awk "BEGIN {printf \"%.1f\", $loop - $ca_start}") s (from the autoscaler's start)"
echo "serve RSS now / peak     $((rss / 1024)) MB / $((hwm / 1024)) MB"

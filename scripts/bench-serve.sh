#!/usr/bin/env bash
# `magsim serve` at the bench shape (scripts/bench-shape.yaml: 1,000 nodes, 30,000 pods):
# memory once serving, a full LIST of pods, the same list paged at limit=500 (every page,
# following `continue`), one event POST, and memory after. Bounded: it stops serve at the end.
# Usage: bash scripts/bench-serve.sh [MAGSIM]
set -euo pipefail
cd "$(dirname "$0")/.."

magsim=${1:-target/release/magsim}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$magsim" serve scripts/bench-shape.yaml --no-autoscaler --dir "$work/cloud" > "$work/serve.out" 2> "$work/serve.log" &
serve=$!
until grep -q '^export ' "$work/serve.out" 2>/dev/null; do sleep 0.2; done
kube=$(awk '/server:/ {print $2; exit}' "$work/cloud/kubeconfig")
rss() { awk '/VmRSS/ {printf "%d MB", $2 / 1024}' "/proc/$serve/status"; }
echo "serve RSS once serving   $(rss)"
for i in 1 2 3; do
  curl -s -o /dev/null -w "full LIST of pods        %{time_total} s, %{size_download} bytes, HTTP %{http_code}\n" "$kube/api/v1/pods"
done
start=$(date +%s.%N)
pages=0 items=0 token=
while :; do
  curl -s -o "$work/page.json" "$kube/api/v1/pods?limit=500${token:+&continue=$token}"
  pages=$((pages + 1))
  items=$((items + $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$work/page.json")))
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"].get("continue", ""))' "$work/page.json")
  [ -n "$token" ] || break
done
echo "paged LIST (limit=500)   $pages pages, $items pods in $(awk "BEGIN {printf \"%.2f\", $(date +%s.%N) - $start}") s (with a python parse per page)"
curl -s -o /dev/null -w "first page (limit=500)   %{time_total} s\n" "$kube/api/v1/pods?limit=500"
curl -s -o /dev/null -w "event POST               %{time_total} s, HTTP %{http_code}\n" -H 'Content-Type: application/json' \
  -d '{"metadata":{"generateName":"b.","namespace":"default"},"involvedObject":{"kind":"Node","name":"x"},"reason":"R","message":"m","type":"Normal"}' \
  "$kube/api/v1/namespaces/default/events"
curl -s -o /dev/null -w "GET one pod              %{time_total} s\n" "$kube/api/v1/nodes?limit=1"
echo "serve RSS after          $(rss) (peak $(awk '/VmHWM/ {printf "%d MB", $2 / 1024}' "/proc/$serve/status"))"

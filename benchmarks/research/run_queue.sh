#!/usr/bin/env bash
# Run the experiments listed in a queue file one after another (one per line: NAME ARGS...),
# niced, logging to $LOGS/NAME.log. Usage: benchmarks/research/run_queue.sh QUEUE_FILE
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD BILSTM_ATTENTION_CACHE=${BILSTM_ATTENTION_CACHE:-/tmp/research-cache} TF_CPP_MIN_LOG_LEVEL=2
LOGS=${LOGS:-/tmp/research-logs}
mkdir -p "$LOGS"
while read -r name args; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ -f benchmarks/research/results/$name.json ]] && continue
  nice -n 15 python benchmarks/research/bilstm_research.py --name "$name" $args > "$LOGS/$name.log" 2>&1
done < "$1"

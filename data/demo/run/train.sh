#!/usr/bin/env bash
# The long training run of issue 13 ("a model that searches"), resumable on any machine.
#
#   bash data/demo/run/train.sh start   # once: the first command of the run (already done; see TRAINING.md)
#   bash data/demo/run/train.sh resume  # every later session: continue exactly where the committed state stopped
#
# The run's whole definition (architecture, sampling, schedule, seed) is stored in its state
# (search-5x5.optim.safetensors); `resume` needs nothing else. The process runs in the background
# (setsid + nohup) and appends to train.log; pause it with `kill -STOP` during benchmarks and
# `kill -CONT` after. A checkpoint is written every 250 updates: commit search-5x5.safetensors,
# search-5x5.optim.safetensors and a TRAINING.md line before a session ends.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=data/demo/run/search-5x5.safetensors
LOG=data/demo/run/train.log
CADENCE=(--eval-every 1000 --eval-count 200 --checkpoint-every 250 --log-every 100)
case "${1:-}" in
  start)
    [ -e "$OUT" ] && { echo "train.sh: $OUT exists; use resume" >&2; exit 2; }
    shift
    setsid nohup node bin/searchlight.js train "$@" "${CADENCE[@]}" --out "$OUT" >> "$LOG" 2>&1 < /dev/null &
    ;;
  resume)
    setsid nohup node bin/searchlight.js train --resume "${CADENCE[@]}" --out "$OUT" >> "$LOG" 2>&1 < /dev/null &
    ;;
  *)
    echo "usage: bash data/demo/run/train.sh start <train options> | resume" >&2
    exit 2
    ;;
esac
echo "training in the background (pid $!), log: $LOG"

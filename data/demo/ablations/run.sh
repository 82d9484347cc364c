#!/usr/bin/env bash
# The equal-compute ablations of issue 13 (data/demo/README.md, "Ablations"): five arms, each about
# 12 minutes of training on 2 cores, then the same held-out evaluation (1,000 5×5 DFS mazes of seed
# 12345) and the lookahead profile. Steps per arm were set from each configuration's throughput on a
# quiet machine (updates/s × 720 s), so arms that differ in cost get the same minutes.
# Run from the repository root: bash data/demo/ablations/run.sh OUTDIR
set -euo pipefail
OUT=${1:?usage: run.sh OUTDIR}; mkdir -p "$OUT"
SL="node bin/searchlight.js"
COMMON="--lr 1.5e-3 --warmup 200 --seed 21 --checkpoint-every 500 --eval-count 200 --log-every 50"
arm() { local name=$1; shift
  $SL train "$@" $COMMON --out "$OUT/$name.safetensors" > "$OUT/$name.out" 2> "$OUT/$name.log"
  $SL eval --weights "$OUT/$name.safetensors" --grid 5 --count 1000 --seed 12345 > "$OUT/$name.eval.json"
  $SL exp run lookahead --weights "$OUT/$name.safetensors" --params '{"count":1000}' --seed 12345 > "$OUT/$name.lookahead.json"
}
arm A-demo          --preset demo --grid 5 --batch 32 --steps 6000 --eval-every 1000
arm B-deep          --preset deep --grid 5 --batch 32 --steps 3100 --eval-every 500
arm C-deep-balanced --preset deep --grid 5 --batch 32 --balance lookahead --steps 3100 --eval-every 500
arm D-deep-grids    --preset deep --grids 3,4,5 --curriculum grid:0.3 --batch 32 --steps 4400 --eval-every 750
# E's steps came from a probe of its own throughput (2.91 updates/s × 720 s; it then ran faster, 622 s).
arm E-deep-q8       --preset deep --grid 5 --queries 8 --batch 16 --steps 2093 --eval-every 418

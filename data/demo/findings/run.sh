#!/usr/bin/env bash
# The findings of data/demo/README.md, recomputed: each line is one `searchlight exp run` whose
# result (.json summary + .safetensors tensors) is the evidence of a seeded Finding
# (data/demo/workspace.json). Seed 12345 throughout (disjoint from every training seed).
#
#   bash data/demo/findings/run.sh [search|demo|all]   # default: all
#
# Session 23 on the 2-core VM: 6 min 40 s for the searcher (quiet machine), ~3 for the demo model; pause a training run first (kill -STOP).
set -euo pipefail
cd "$(dirname "$0")/../../.."
WHICH="${1:-all}"
exp() { # exp <model> <name> <kind> <params>
  local model="$1" name="$2" kind="$3" params="$4"
  echo "== $model $name: $kind $params" >&2
  node bin/searchlight.js exp run "$kind" --weights "data/demo/$model-5x5.safetensors" --params "$params" --seed 12345 --quiet \
    --out "data/demo/findings/$model-$name.json"
}
for model in search demo; do
  [ "$WHICH" = all ] || [ "$WHICH" = "$model" ] || continue
  # Connectivity (is this edge open?) and "is this cell the target" read from one token's residual
  # stream, by layer, at `;`, <PATH_START> and the path tokens, beside a shuffled-label control.
  exp "$model" probes probes '{"count":300,"classes":["sep","path_start","path"],"targets":["edge","target"]}'
  # Heads ranked by attention onto maze-connected neighbours.
  exp "$model" adjacency adjacency-heads '{"count":64}'
  # Activation patching with a wall removed on the solution: which heads and layers carry connectivity.
  exp "$model" patching activation-patching '{"count":16,"pair":"remove-wall-on","sites":["resid_pre","head_all_pos"]}'
  # Embedding geometry: distance between coordinate embeddings vs lattice distance (anchor 0.368).
  exp "$model" weights weights '{}'
  # How far ahead it decides forks.
  exp "$model" lookahead lookahead '{"count":1000}'
  # Retargeting by the mean-difference direction at every position from the target on, by layer.
  exp "$model" retarget retarget '{"count":64,"method":"direction","positions":"target-onwards","references":1024,"scale":1}'
  # …and by span: one direction for the prompt (target…<PATH_START>), another for the path positions.
  exp "$model" retarget-span retarget '{"count":64,"method":"direction","positions":"target-onwards","references":1024,"scale":1,"span":"by-span"}'
  # …by transplant: the target…<PATH_START> residuals of a run whose target is another cell, by layer.
  exp "$model" retarget-transplant retarget '{"count":64,"method":"transplant","positions":"target-to-path-start"}'
  # …and along the "cell is the target" probes' direction (fitted on the references where it is added), at 1× and 4× the mean difference's norm.
  exp "$model" retarget-probe retarget '{"count":64,"method":"probe","positions":"target-onwards","references":1024,"scale":1}'
  exp "$model" retarget-probe4 retarget '{"count":64,"method":"probe","positions":"target-onwards","references":1024,"scale":4}'
  # How the target reaches the next-move decision: each head's output from a run with another target
  # sent to the logits only, the other heads frozen clean (path patching, Wang et al. 2022).
  exp "$model" path-patching path-patching '{"count":24,"pair":"target"}'
done

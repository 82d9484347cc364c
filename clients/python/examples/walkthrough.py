"""A first session with the Python client, cell by cell (the notebook walkthrough.ipynb holds the
same cells). Run against a server with a model and a dataset:

    SEARCHLIGHT_URL=http://localhost:3000 SEARCHLIGHT_TOKEN=sl_... PYTHONPATH=clients/python \
      python3 clients/python/examples/walkthrough.py Model:1 Dataset:1

It prints one JSON object summarising what each cell got (the tests read it).
"""
import json
import sys

import numpy as np

import searchlight

model_id, dataset_id = sys.argv[1], sys.argv[2]
report = {}

# %% Connect and open a model, TransformerLens-style
client = searchlight.Client()
model = client.model(model_id)
report["model"] = repr(model)
report["tl_config"] = model.to_tl_config()

# %% A maze from a dataset, with maze-dataset's field names
dataset = client.dataset(dataset_id)
mazes = list(dataset)
maze = mazes[0]
report["mazes"] = len(mazes)
report["maze0"] = {"id": maze.id, "origin": maze.origin.tolist(), "target": maze.target.tolist(),
                   "solution": maze.solution.tolist(), "connection_list": maze.connection_list.astype(int).tolist()}

# %% run_with_cache on the maze's prompt: logits and NumPy activations by hook name
prompt = maze.tokens.split("<PATH_START>")[0] + "<PATH_START>"
tokens = model.to_tokens(prompt)
logits, cache = model.run_with_cache(tokens, names_filter=lambda name: name.endswith("hook_pattern") or name == "blocks.0.hook_resid_post")
report["tokens_shape"] = list(tokens.shape)
report["logits"] = logits[0, -1].tolist()
report["cache_shapes"] = {k: list(v.shape) for k, v in cache.items()}
report["pattern_rows_sum_to_one"] = bool(np.allclose(cache["blocks.0.attn.hook_pattern"].sum(-1), 1, atol=1e-5))
report["next_token"] = model.to_str_tokens([int(logits[0, -1].argmax())])[0]

# %% The weights, as a state_dict of NumPy arrays
sd = model.state_dict()
report["state_dict"] = {k: list(v.shape) for k, v in sd.items() if not k.endswith(("attn.mask", "attn.IGNORE"))}
report["W_E_00"] = float(sd["embed.W_E"][0, 0])

# %% An experiment, run and awaited: its typed result and its tensors
exp = client.run_experiment(model, "attention", {"count": 2})
report["experiment"] = {"id": exp.id, "status": exp.status, "params": exp.params, "result": exp.result, "tensors": {k: list(v.shape) for k, v in exp.tensors.items()}}

# %% A linear probe as a residual direction: P(label) = sigmoid(resid @ w + bias) at its hook
probes = client.run_experiment(model, "probes", {"grid": 3, "count": 12, "iters": 20, "classes": ["path"], "targets": ["target"]})
direction = probes.probe_direction(4)  # path tokens, the first layer probed, cell (1,1)
_, resid = model.run_with_cache(tokens, names_filter=direction["hook"])
z = resid[direction["hook"]][0, -1] @ direction["w"] + direction["bias"]
report["direction"] = {"id": probes.id, "label": direction["label"], "hook": direction["hook"], "w_shape": list(direction["w"].shape), "p_last": float(1 / (1 + np.exp(-z)))}

# %% A finding, with the experiment as evidence
finding = client.create_finding(model, {"kind": "head", "layer": 0, "head": 0}, "Head 0.0 attends to the target at <PATH_START>.",
                                evidence=[{"label": "attention", "url": f"/experiments/{exp.id.split(':')[1]}"}])
report["finding"] = finding

# %% Errors are the server's own messages
try:
    client.model("Model:999999")
except searchlight.SearchlightError as e:
    report["error"] = str(e)

print(json.dumps(report))

"""A forward pass with a cached attention pattern, downloaded as .npy, from Python.

    TOKEN=sl_... python3 examples/forward.py Model:1 Maze:1   (SEARCHLIGHT_URL defaults to http://localhost:$PORT, PORT to 3000)

Needs `requests` and `numpy`. The model's vocabulary must cover the maze's grid.
"""
import io
import os
import sys

import numpy as np
import requests

API = os.environ.get("SEARCHLIGHT_URL", f"http://localhost:{os.environ.get('PORT', '3000')}")
H = {"Authorization": f"Bearer {os.environ['TOKEN']}"}


def gql(query, **variables):
    r = requests.post(f"{API}/graphql", json={"query": query, "variables": variables}, headers=H).json()
    if "errors" in r:
        sys.exit("; ".join(f"{e['extensions']['code']}: {e['message']}" for e in r["errors"]))
    return r["data"]


model_id, maze_id = sys.argv[1], sys.argv[2]
maze = gql("query($id: ID!) { maze(id: $id) { tokens } }", id=maze_id)["maze"]
if maze is None:  # lookups by id answer null for an id that names nothing
    sys.exit(f"{maze_id} does not exist")
tokens = maze["tokens"]
prompt = tokens[: tokens.index("<PATH_START>") + len("<PATH_START>")]
out = gql("""mutation($m: ID!, $t: String!) { runForward(modelId: $m, tokens: $t,
  hooks: ["blocks.0.attn.hook_pattern"]) { nextToken topK { token prob } cacheId } }""", m=model_id, t=prompt)["runForward"]
npy = requests.get(f"{API}/files/caches/{out['cacheId']}/blocks.0.attn.hook_pattern.npy", headers=H)
npy.raise_for_status()
pattern = np.load(io.BytesIO(npy.content))  # [batch, head, query pos, key pos]
print(out["nextToken"], out["topK"][:3], pattern.shape)

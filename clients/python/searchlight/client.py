"""Searchlight from Python, shaped after TransformerLens.

    import searchlight
    client = searchlight.Client()                     # SEARCHLIGHT_URL, SEARCHLIGHT_TOKEN
    model = client.model("Model:1")
    logits, cache = model.run_with_cache("<ADJLIST_START> (0,0) <--> (0,1) ; ...", names_filter=lambda n: n.endswith("hook_pattern"))
    cache["blocks.0.attn.hook_pattern"].shape         # [batch, head, query_pos, key_pos], NumPy
    sd = model.state_dict()                           # TL names -> NumPy arrays
    cfg = model.to_tl_config()                        # HookedTransformerConfig(**cfg) accepts it

Everything goes through the server's GraphQL API and its /files downloads with one bearer token;
arrays arrive as safetensors and are read with NumPy (safetensors.py).
"""
import os
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import requests

from .safetensors import load_bytes

TokensLike = Union[str, Sequence[str], Sequence[int], np.ndarray]
NamesFilter = Union[None, str, Sequence[str], Callable[[str], bool]]


# The typed fields these queries select (the SDL types them; a selection names what comes back).
_CONFIG = (
    "config { d_model n_layers n_heads d_head d_mlp d_vocab n_ctx act_fn eps tokenizer positional_embedding_type"
    " rotary_dim rotary_base rotary_adjacent_pairs normalization_type attn_only parallel_attn_mlp d_vocab_out }"
)
_AGGREGATE = ("count exact_path_rate valid_rollout_rate target_reached_rate frac_correct_forks_pooled fork_decisions { correct total } "
              "means { node_overlap frac_connected_steps frac_adjacent_steps corner_jumps backtracks invalid_tokens frac_correct_forks path_length_ratio }")
_JOB_RESULT = ("result { datasetId mazeCount skipped contentHash modelId step loss tokensPerSec evaluationId "
               "exact_path_rate baseline_exact_path_rate experimentId kind tensors "
               "lastEval { step loss seconds model { " + _AGGREGATE + " } baseline { " + _AGGREGATE + " } } }")
# Every PathMetrics field (server/maze/metrics.ts pathMetrics).
_PATH_METRICS = ("metrics { exact_path node_overlap frac_connected_steps frac_adjacent_steps corner_jumps backtracks target_reached "
                 "valid_rollout invalid_tokens fork_decisions { correct total } frac_correct_forks path_length_ratio predicted_length steps ended }")


def _target_input(target: Dict[str, Any]) -> Dict[str, Any]:
    """The API's ComponentTargetInput (one field per kind) for a {"kind": ..., ...} dict."""
    kind = target.get("kind")
    if kind in ("embed", "pos_embed", "unembed"):
        return {kind: True}
    if kind == "head":
        return {"head": {"layer": target["layer"], "head": target["head"]}}
    if kind == "mlp":
        return {"mlp": {"layer": target["layer"]}}
    if kind == "neuron":
        return {"neuron": {"layer": target["layer"], "neuron": target["neuron"]}}
    if kind == "hook":
        return {"hook": {"hook": target["hook"], **({"position": target["position"]} if target.get("position") is not None else {})}}
    if kind in ("experiment", "feature", "direction"):
        e = target["experimentId"]
        e = e if isinstance(e, str) else f"Experiment:{e}"
        if kind == "feature":
            return {"feature": {"sae": e, "latent": target["latent"]}}
        if kind == "direction":
            return {"direction": {"probes": e, "index": target["index"]}}
        return {"experiment": e}
    raise SearchlightError(f"target kind must be one of embed, pos_embed, unembed, head, mlp, neuron, hook, experiment, feature, direction; got {kind!r}")


class SearchlightError(RuntimeError):
    """An error the server answered with (its message names what was wrong), or a failed job."""

    def __init__(self, message: str, code: Optional[str] = None):
        super().__init__(message)
        self.code = code


class Client:
    """A connection to a Searchlight server. `url` defaults to $SEARCHLIGHT_URL (else
    http://localhost:$PORT, PORT defaulting to 3000); `token` to $SEARCHLIGHT_TOKEN."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 120.0):
        self.url = (url or os.environ.get("SEARCHLIGHT_URL") or f"http://localhost:{os.environ.get('PORT', '3000')}").rstrip("/")
        self.token = token or os.environ.get("SEARCHLIGHT_TOKEN")
        if not self.token:
            raise SearchlightError("no API token: pass token=... or set SEARCHLIGHT_TOKEN (create one on the web app's account page or with createApiToken)")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {self.token}"
        # The server's output types by name, read on first need (see _selection).
        self._types: Optional[Dict[str, Dict[str, Any]]] = None
        self._kinds: Optional[List[Dict[str, Any]]] = None

    # -- transport ---------------------------------------------------------------------------
    def graphql(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Runs one GraphQL operation; returns its data or raises SearchlightError with the server's message."""
        r = self._http.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=self.timeout)
        try:
            body = r.json()
        except ValueError:
            raise SearchlightError(f"HTTP {r.status_code} from {self.url}/graphql: {r.text[:200]}")
        if body.get("errors"):
            e = body["errors"][0]
            raise SearchlightError(e.get("message", "unknown error"), (e.get("extensions") or {}).get("code"))
        return body["data"]

    def _selection(self, type_name: str) -> str:
        """Every field of an output type (for a union: of each member, under `__typename`), read from the
        server's schema once per client: the typed result of any experiment kind, including kinds newer
        than this client, without a hand-kept mirror of their fields."""
        if self._types is None:
            ref = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"
            data = self.graphql("{ __schema { types { name kind possibleTypes { name } fields(includeDeprecated: false) { name args { name } type { " + ref + " } } } } }")
            self._types = {t["name"]: t for t in data["__schema"]["types"]}
        return self._fields(type_name, set())

    def _fields(self, type_name: str, seen: set, alias: Optional[set] = None) -> str:
        t = self._types[type_name]
        if t["kind"] in ("UNION", "INTERFACE"):
            members = [m["name"] for m in t["possibleTypes"]]
            # Members may use one name for fields of different types (AttentionSummary.layers is
            # [Int!]!, LogitLensSummary.layers a list of objects), which one selection cannot merge:
            # those are fetched under "<name>__<Member>" aliases and renamed back (_unalias).
            types: Dict[str, set] = {}
            for m in members:
                for f in self._types[m]["fields"]:
                    types.setdefault(f["name"], set()).add(repr(f["type"]))
            clash = {name for name, ts in types.items() if len(ts) > 1}
            return "__typename " + " ".join(f"... on {m} {{ {self._fields(m, seen, clash)} }}" for m in members)
        if type_name in seen:  # a type that contains itself: stop rather than select for ever
            raise SearchlightError(f"{type_name} refers to itself; the client cannot select all of it")
        parts = []
        for f in t["fields"]:
            if f["args"]:
                continue  # a field that takes arguments is asked for explicitly, not by "everything"
            inner = f["type"]
            while inner["kind"] in ("NON_NULL", "LIST"):
                inner = inner["ofType"]
            head = f"{f['name']}__{type_name}: {f['name']}" if alias and f["name"] in alias else f["name"]
            if inner["kind"] in ("SCALAR", "ENUM"):
                parts.append(head)
            else:
                parts.append(f"{head} {{ {self._fields(inner['name'], seen | {type_name})} }}")
        return " ".join(parts)

    @staticmethod
    def _unalias(value: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """A union member's fields under their own names again (see _fields)."""
        if not value or "__typename" not in value:
            return value
        suffix = f"__{value['__typename']}"
        return {(k[: -len(suffix)] if k.endswith(suffix) else k): v for k, v in value.items()}

    def download(self, path: str) -> bytes:
        """The bytes of a /files/... URL (as the API returns them), with the same credentials."""
        r = self._http.get(path if path.startswith("http") else f"{self.url}{path}", timeout=self.timeout)
        if r.status_code != 200:
            try:
                message = r.json()["errors"][0]["message"]
            except Exception:
                message = r.text[:200]
            raise SearchlightError(f"GET {path}: HTTP {r.status_code}: {message}")
        return r.content

    def wait_for_job(self, job_id: str, poll: float = 0.2, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Polls a job until it ends; returns it when COMPLETED, raises SearchlightError otherwise."""
        start = time.monotonic()
        while True:
            job = self.graphql("query($id: ID!) { job(id: $id) { id kind status error params { " + self._selection("JobParams") + " } "
                               + _JOB_RESULT + " progress { phase done total message } } }", {"id": job_id})["job"]
            if job is not None:
                job["params"] = {k: v for k, v in (Client._unalias(job["params"]) or {}).items() if k != "__typename"}
            if job is None:
                raise SearchlightError(f"{job_id} does not exist")
            if job["status"] == "COMPLETED":
                return job
            if job["status"] in ("FAILED", "CANCELLED"):
                raise SearchlightError(f"{job_id} ({job['kind']}) {job['status']}: {job['error']}")
            if timeout is not None and time.monotonic() - start > timeout:
                raise SearchlightError(f"{job_id} still {job['status']} after {timeout} s")
            time.sleep(poll)

    # -- objects -----------------------------------------------------------------------------
    def models(self) -> List[Dict[str, Any]]:
        """The models on the server, newest first: [{id, name, status}]."""
        data = self.graphql("{ models(first: 100) { edges { node { id name status } } } }")
        return [e["node"] for e in data["models"]["edges"]]

    def model(self, model_id: str) -> "HookedModel":
        data = self.graphql("query($id: ID!) { model(id: $id) { id name " + _CONFIG + " vocab hookNames latestCheckpoint { id step downloadUrl } } }", {"id": model_id})
        if data["model"] is None:
            raise SearchlightError(f"{model_id} does not exist")
        return HookedModel(self, data["model"])

    def dataset(self, dataset_id: str) -> "Dataset":
        data = self.graphql("query($id: ID!) { dataset(id: $id) { id name generator grid count status } }", {"id": dataset_id})
        if data["dataset"] is None:
            raise SearchlightError(f"{dataset_id} does not exist")
        return Dataset(self, data["dataset"])

    def run_experiment(self, model: Union[str, "HookedModel"], kind: str, params: Optional[Dict[str, Any]] = None,
                       dataset: Union[None, str, "Dataset"] = None, seed: int = 0, wait: bool = True) -> "Experiment":
        """Queues an experiment (see client.experiment_kinds()) and, by default, waits for its results."""
        model_id = model.id if isinstance(model, HookedModel) else model
        dataset_id = dataset.id if isinstance(dataset, Dataset) else dataset
        job = self.graphql(
            "mutation($m: ID!, $p: ExperimentParamsInput!, $d: ID, $s: Int) { runExperiment(modelId: $m, params: $p, datasetId: $d, seed: $s) {"
            " id params { ... on ExperimentJobParams { experimentId } } } }",
            {"m": model_id, "p": self._params_input(kind, params or {}), "d": dataset_id, "s": seed},
        )["runExperiment"]
        experiment_id = job["params"]["experimentId"]
        if wait:
            self.wait_for_job(job["id"])
        return self.experiment(experiment_id)

    def experiment(self, experiment_id: str) -> "Experiment":
        data = self.graphql(
            "query($id: ID!) { experiment(id: $id) { id kind status error downloadUrl tensors { name shape }"
            " params { " + self._selection("ExperimentParams") + " } result { " + self._selection("ExperimentSummary") + " } } }",
            {"id": experiment_id},
        )
        if data["experiment"] is None:
            raise SearchlightError(f"{experiment_id} does not exist")
        return Experiment(self, data["experiment"])

    def experiment_kinds(self) -> List[Dict[str, Any]]:
        """The kinds with their params: name, type, doc, enum and choices (as the API spells them), how a
        model-dependent default is chosen (defaultDoc), and inputField, the kind's field of runExperiment's params."""
        if self._kinds is None:
            self._kinds = self.graphql(
                "{ experimentKinds { kind describe paramsType inputField params { name type doc enum choices defaultDoc hasDefault } } }"
            )["experimentKinds"]
        return self._kinds

    def _params_input(self, kind: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """`params` as runExperiment takes them: under the kind's field, a choice written with '-' (as the
        CLI spells it, e.g. "add-wall-on") sent as its enum value ("add_wall_on"), an index given to an
        index-or-name field (attention's query) as its digits. The server names anything it refuses."""
        info = next((k for k in self.experiment_kinds() if k["kind"] == kind), None)
        if info is None:
            raise SearchlightError(f"no experiment kind {kind!r}; kinds: {', '.join(k['kind'] for k in self.experiment_kinds())}")
        fields = {f["name"]: f for f in info["params"]}
        out: Dict[str, Any] = {}
        for name, value in params.items():
            f = fields.get(name)
            if f is not None and f["enum"]:
                out[name] = [v.replace("-", "_") if isinstance(v, str) else v for v in value] if isinstance(value, list) else (
                    value.replace("-", "_") if isinstance(value, str) else value)
            elif f is not None and f["type"] == "int|string" and isinstance(value, int) and not isinstance(value, bool):
                out[name] = str(value)
            else:
                out[name] = value
        return {info["inputField"]: out}

    def create_finding(self, model: Union[str, "HookedModel"], target: Dict[str, Any], body: str, status: str = "HYPOTHESIS",
                       tags: Optional[List[str]] = None, evidence: Optional[List[Dict[str, str]]] = None) -> Dict[str, Any]:
        """A finding (annotation) on a component, e.g. target={"kind": "head", "layer": 1, "head": 0}
        (kinds: embed, pos_embed, unembed, head, mlp, neuron, hook, experiment);
        evidence: [{"label": ..., "url": "/experiments/7"}]."""
        model_id = model.id if isinstance(model, HookedModel) else model
        return self.graphql(
            "mutation($i: CreateAnnotationInput!) { createAnnotation(input: $i) { id target { kind layer head neuron hook position experimentId } body status tags evidence { label url } } }",
            {"i": {"modelId": model_id, "target": _target_input(target), "body": body, "status": status, "tags": tags or [], "evidence": evidence or []}},
        )["createAnnotation"]


class HookedModel:
    """A model on the server, with TransformerLens' names: cfg, run_with_cache, state_dict, to_tokens."""

    def __init__(self, client: Client, row: Dict[str, Any]):
        self.client = client
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.cfg: Dict[str, Any] = row["config"]
        self.vocab: List[str] = row["vocab"]
        self.hook_names: List[str] = row["hookNames"]
        self._checkpoint = row["latestCheckpoint"]
        self._index = {t: i for i, t in enumerate(self.vocab)}

    def __repr__(self) -> str:
        c = self.cfg
        return f"HookedModel({self.id} {self.name!r}: {c['n_layers']} layers, d_model {c['d_model']}, d_vocab {c['d_vocab']})"

    def to_tl_config(self) -> Dict[str, Any]:
        """The config as HookedTransformerConfig(**cfg) takes it: TL field names only (no `tokenizer`), the architecture included."""
        c = self.cfg
        out = {
            "d_model": c["d_model"], "n_layers": c["n_layers"], "n_heads": c["n_heads"], "d_head": c["d_head"], "d_mlp": c["d_mlp"],
            "d_vocab": c["d_vocab"], "d_vocab_out": c.get("d_vocab_out", c["d_vocab"]), "n_ctx": c["n_ctx"], "act_fn": c["act_fn"],
            "eps": c.get("eps", 1e-5), "normalization_type": c.get("normalization_type", "LN"),
            "positional_embedding_type": c.get("positional_embedding_type", "standard"), "attn_only": c.get("attn_only", False),
            "parallel_attn_mlp": c.get("parallel_attn_mlp", False), "model_name": self.name,
        }
        if out["positional_embedding_type"] == "rotary":
            out.update(rotary_dim=c["rotary_dim"], rotary_base=c["rotary_base"], rotary_adjacent_pairs=c["rotary_adjacent_pairs"])
        return out

    def to_str_tokens(self, tokens: TokensLike) -> List[str]:
        if isinstance(tokens, str):
            return tokens.split()
        arr = list(np.asarray(tokens).reshape(-1)) if isinstance(tokens, np.ndarray) else list(tokens)
        return [self.vocab[int(t)] if not isinstance(t, str) else t for t in arr]

    def to_tokens(self, tokens: TokensLike) -> np.ndarray:
        """Token ids [1, pos] (int64) of a space-separated sequence, a list of token strings or ids."""
        strs = self.to_str_tokens(tokens)
        missing = [t for t in strs if t not in self._index]
        if missing:
            raise SearchlightError(f"token {missing[0]!r} is not in {self.id}'s vocabulary ({len(self.vocab)} tokens)")
        return np.array([[self._index[t] for t in strs]], dtype=np.int64)

    def _names(self, names_filter: NamesFilter) -> List[str]:
        if names_filter is None:
            return list(self.hook_names)
        if isinstance(names_filter, str):
            return [names_filter]
        if callable(names_filter):
            return [n for n in self.hook_names if names_filter(n)]
        return list(names_filter)

    def run_with_cache(self, tokens: TokensLike, names_filter: NamesFilter = None) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
        """(logits [1, pos, d_vocab], cache): the hooks chosen by names_filter (a name, a list, a predicate
        or None for all) as NumPy arrays with TransformerLens' shapes, batch first. Computed on the
        server and cached there by content, so a repeat is a download."""
        names = self._names(names_filter)
        if not names:
            raise SearchlightError("names_filter chose no hook")
        text = " ".join(self.to_str_tokens(tokens))
        out = self.client.graphql(
            "mutation($m: ID!, $t: String!, $h: [String!]) { runForward(modelId: $m, tokens: $t, hooks: $h, topK: 1) { cacheId cacheUrl } }",
            {"m": self.id, "t": text, "h": names},
        )["runForward"]
        tensors, _ = load_bytes(self.client.download(out["cacheUrl"]))
        logits = tensors.pop("logits")
        return logits, {n: tensors[n] for n in names}

    def __call__(self, tokens: TokensLike) -> np.ndarray:
        """Logits [1, pos, d_vocab]."""
        return self.run_with_cache(tokens, names_filter=self.hook_names[:1])[0]

    def state_dict(self) -> Dict[str, np.ndarray]:
        """The latest checkpoint's weights by TransformerLens state_dict name (float32 NumPy arrays)."""
        if not self._checkpoint:
            raise SearchlightError(f"{self.id} has no checkpoint yet")
        tensors, _ = load_bytes(self.client.download(self._checkpoint["downloadUrl"]))
        return tensors

    def generate_path(self, maze_id: str) -> Dict[str, Any]:
        """Greedy decoding of a stored maze's prompt: {tokens, path, metrics}."""
        return self.client.graphql("mutation($m: ID!, $z: ID!) { generatePath(modelId: $m, mazeId: $z) { tokens path " + _PATH_METRICS + " } }", {"m": self.id, "z": maze_id})["generatePath"]


class Maze:
    """One stored maze with maze-dataset's field names: connection_list [2, rows, cols] (bool: [0] down
    from (r, c), [1] right from (r, c)), origin and target [row, col], solution [n, 2]."""

    def __init__(self, row: Dict[str, Any]):
        self.id: str = row["id"]
        self.index: int = row["index"]
        self.split: str = row["split"]
        self.rows: int = row["rows"]
        self.cols: int = row["cols"]
        self.origin = np.array(row["origin"], dtype=np.int64)
        self.target = np.array(row["target"], dtype=np.int64)
        self.solution = np.array(row["solution"], dtype=np.int64)
        self.tokens: str = row["tokens"]
        cl = np.zeros((2, self.rows, self.cols), dtype=bool)
        for (a, b) in row["connections"]:
            (r0, c0), (r1, c1) = sorted([tuple(a), tuple(b)])
            cl[0 if r1 == r0 + 1 else 1, r0, c0] = True
        self.connection_list = cl

    def __repr__(self) -> str:
        return f"Maze({self.id}: {self.rows}x{self.cols}, {tuple(self.origin)} -> {tuple(self.target)}, {len(self.solution)} cells)"


class Dataset:
    def __init__(self, client: Client, row: Dict[str, Any]):
        self.client = client
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.grid: int = row["grid"]
        self.count: int = row["count"]

    def mazes(self, page: int = 100) -> Iterator[Maze]:
        """Every maze in index order, fetched a page at a time."""
        after = None
        while True:
            data = self.client.graphql(
                "query($id: ID!, $n: Int, $a: String) { dataset(id: $id) { mazes(first: $n, after: $a) { edges { node { id index split rows cols origin target solution connections tokens } } pageInfo { hasNextPage endCursor } } } }",
                {"id": self.id, "n": page, "a": after},
            )["dataset"]["mazes"]
            for e in data["edges"]:
                yield Maze(e["node"])
            if not data["pageInfo"]["hasNextPage"]:
                return
            after = data["pageInfo"]["endCursor"]

    def __iter__(self) -> Iterator[Maze]:
        return self.mazes()


class Experiment:
    """An experiment's typed result (a dict whose `__typename` names the kind's summary type, e.g.
    AttentionSummary) and its result tensors (NumPy, downloaded on first use)."""

    def __init__(self, client: Client, row: Dict[str, Any]):
        self.client = client
        self.id: str = row["id"]
        self.kind: str = row["kind"]
        self.status: str = row["status"]
        # The params as run (the API's spelling: enum values with '_'); fields the kind left unset are absent.
        self.params: Dict[str, Any] = {k: v for k, v in (Client._unalias(row["params"]) or {}).items() if k != "__typename" and v is not None}
        self.result: Optional[Dict[str, Any]] = Client._unalias(row["result"])
        self.error: Optional[str] = row["error"]
        self._download = row["downloadUrl"]
        self._tensors: Optional[Dict[str, np.ndarray]] = None

    @property
    def tensors(self) -> Dict[str, np.ndarray]:
        if self._tensors is None:
            if not self._download:
                raise SearchlightError(f"{self.id} is {self.status}: no results yet")
            self._tensors, _ = load_bytes(self.client.download(self._download))
        return self._tensors

    def probe_direction(self, index: int) -> Dict[str, Any]:
        """Probe `index` of a completed probes run as a residual-stream direction (the API's
        Experiment.probeDirection): what it reads (class, layer, hook, target, cell or edge, label)
        and its test scores, with `w` [d_model] (NumPy) and `bias` on the raw residual at `hook`, so
        that P(label) = sigmoid(resid @ w + bias). Probes are numbered class-major, then layer,
        target and label column."""
        data = self.client.graphql(
            "query($id: ID!, $i: Int!) { experiment(id: $id) { probeDirection(index: $i) { index class layer hook target column cell edge "
            "label norm bias balancedAccuracy controlBalancedAccuracy } } }",
            {"id": self.id, "i": index},
        )
        d = data["experiment"]["probeDirection"]
        if d is None:
            raise SearchlightError(f"{self.id} is not a completed probes run that kept its probes' weights")
        d["w"] = self.tensors["directions"][index]
        return d

    def __repr__(self) -> str:
        return f"Experiment({self.id} {self.kind}, {self.status})"

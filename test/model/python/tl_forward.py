"""TransformerLens' HookedTransformer forward in NumPy (float64), reading a Searchlight model file.

Written from TransformerLens' documented semantics (components: Embed, PosEmbed, LayerNorm,
Attention, MLP, Unembed; HookedTransformerConfig defaults: normalization "LN", eps 1e-5,
attention scaled by 1/sqrt(d_head), causal mask from the attn.mask buffer filled with attn.IGNORE),
with nothing shared with the TypeScript engines. The file is read with only json + numpy, by the
safetensors layout (8-byte little-endian header length, JSON header, raw little-endian data), the
way a researcher's `load_state_dict` sees it.

    python3 tl_forward.py model.safetensors tokens.json logits.npy
tokens.json: [[id, ...], ...] (rows of equal length). Writes logits [batch, pos, d_vocab] float64.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    sd = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        sd[name] = np.frombuffer(data[a:b], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return sd, meta


def layer_norm(x, w, b, eps):
    x = x - x.mean(-1, keepdims=True)
    scale = np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return x / scale * w + b


def act(name, x):
    if name == "gelu_new":
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    if name == "gelu":
        from math import erf

        return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))
    if name == "relu":
        return np.maximum(x, 0.0)
    raise ValueError(f"unknown act_fn {name}")


def forward(sd, cfg, tokens):
    f = lambda k: sd[k].astype(np.float64)
    B, T = tokens.shape
    eps = cfg.get("eps", 1e-5)
    resid = f("embed.W_E")[tokens] + f("pos_embed.W_pos")[:T][None]  # [batch, pos, d_model]
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        x = layer_norm(resid, f(p + "ln1.w"), f(p + "ln1.b"), eps)
        q = np.einsum("bpd,hde->bphe", x, f(p + "attn.W_Q")) + f(p + "attn.b_Q")  # [batch, pos, head, d_head]
        k = np.einsum("bpd,hde->bphe", x, f(p + "attn.W_K")) + f(p + "attn.b_K")
        v = np.einsum("bpd,hde->bphe", x, f(p + "attn.W_V")) + f(p + "attn.b_V")
        scores = np.einsum("bqhe,bkhe->bhqk", q, k) / np.sqrt(cfg["d_head"])  # [batch, head, query, key]
        # TransformerLens masks with its own buffers: attn.mask (lower triangle) and attn.IGNORE.
        mask = sd[p + "attn.mask"][:T, :T].astype(bool)
        scores = np.where(mask, scores, sd[p + "attn.IGNORE"].astype(np.float64))
        scores = scores - scores.max(-1, keepdims=True)
        pattern = np.exp(scores)
        pattern /= pattern.sum(-1, keepdims=True)
        z = np.einsum("bhqk,bkhe->bqhe", pattern, v)
        resid = resid + np.einsum("bqhe,hed->bqd", z, f(p + "attn.W_O")) + f(p + "attn.b_O")
        x = layer_norm(resid, f(p + "ln2.w"), f(p + "ln2.b"), eps)
        post = act(cfg["act_fn"], x @ f(p + "mlp.W_in") + f(p + "mlp.b_in"))
        resid = resid + post @ f(p + "mlp.W_out") + f(p + "mlp.b_out")
    x = layer_norm(resid, f("ln_final.w"), f("ln_final.b"), eps)
    return x @ f("unembed.W_U") + f("unembed.b_U")  # [batch, pos, d_vocab]


def main():
    sd, meta = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    tokens = np.array(json.load(open(sys.argv[2])), dtype=np.int64)
    np.save(sys.argv[3], forward(sd, cfg, tokens))


if __name__ == "__main__":
    main()

"""TransformerLens' HookedTransformer forward in NumPy (float64), reading a Searchlight model file.

Written from TransformerLens' documented semantics (components: Embed, PosEmbed, LayerNorm,
Attention, MLP, Unembed; HookedTransformerConfig defaults: normalization "LN", eps 1e-5,
attention scaled by 1/sqrt(d_head), causal mask from the attn.mask buffer filled with attn.IGNORE),
with nothing shared with the TypeScript engines. The file is read with only json + numpy, by the
safetensors layout (8-byte little-endian header length, JSON header, raw little-endian data), the
way a researcher's `load_state_dict` sees it.

    python3 tl_forward.py model.safetensors tokens.json logits.npy [hooks_dir]
tokens.json: [[id, ...], ...] (rows of equal length). Writes logits [batch, pos, d_vocab_out]
float64, and with hooks_dir every hook point TL would cache, as hooks_dir/<TL name>.npy.
Architectures: the config's normalization_type (LN, LNPre, RMS, RMSPre, None),
positional_embedding_type (standard, rotary with rotary_dim, rotary_base, rotary_adjacent_pairs),
attn_only, parallel_attn_mlp and act_fn (gelu_new, gelu, relu, silu, gelu_fast, gelu_pytorch_tanh).
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


def normalize(kind, x, sd, prefix, eps, hook):
    """TL's LayerNorm / LayerNormPre / RMSNorm / RMSNormPre (components/*.py); None is the identity.
    hook_normalized is recorded where TL hooks it: after w and b for LN, before w for RMS."""
    if kind is None:
        return x
    if kind in ("LN", "LNPre"):
        x = x - x.mean(-1, keepdims=True)
    scale = hook(prefix + "hook_scale", np.sqrt((x * x).mean(-1, keepdims=True) + eps))
    x = x / scale
    if kind == "LN":
        x = x * sd[prefix + "w"].astype(np.float64) + sd[prefix + "b"].astype(np.float64)
    x = hook(prefix + "hook_normalized", x)
    if kind == "RMS":
        x = x * sd[prefix + "w"].astype(np.float64)
    return x


def rotary(x, cfg):
    """TL's apply_rotary on [batch, pos, head, d_head]: sin/cos from calculate_sin_cos_rotary, rotate_every_two."""
    R = cfg["rotary_dim"]
    base = cfg.get("rotary_base", 10000)
    adjacent = cfg.get("rotary_adjacent_pairs", False)
    T = x.shape[1]
    freq = base ** (np.arange(R // 2) / (R / 2))
    freq = np.repeat(freq, 2) if adjacent else np.tile(freq, 2)  # "(d 2)" vs "(2 d)"
    angles = np.arange(T)[:, None] / freq[None, :]  # [pos, R]
    sin, cos = np.sin(angles)[None, :, None, :], np.cos(angles)[None, :, None, :]
    xr, xp = x[..., :R], x[..., R:]
    flip = np.empty_like(xr)
    if adjacent:
        flip[..., ::2] = -xr[..., 1::2]
        flip[..., 1::2] = xr[..., ::2]
    else:
        n = R // 2
        flip[..., :n] = -xr[..., n:]
        flip[..., n:] = xr[..., :n]
    return np.concatenate([xr * cos + flip * sin, xp], axis=-1)


def act(name, x):
    if name == "gelu_new":
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    if name == "gelu":
        from math import erf

        return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    if name == "gelu_fast":
        return 0.5 * x * (1.0 + np.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))
    if name == "gelu_pytorch_tanh":  # F.gelu(approximate="tanh")
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    raise ValueError(f"unknown act_fn {name}")


def forward(sd, cfg, tokens):
    """Logits [batch, pos, d_vocab_out] and every hook TL would cache, by TL name."""
    f = lambda k: sd[k].astype(np.float64)
    cache = {}

    def hook(name, value):
        cache[name] = value
        return value

    B, T = tokens.shape
    eps = cfg.get("eps", 1e-5)
    norm = cfg.get("normalization_type", "LN")
    rot = cfg.get("positional_embedding_type", "standard") == "rotary"
    attn_only = cfg.get("attn_only", False)
    parallel = cfg.get("parallel_attn_mlp", False)
    resid = hook("hook_embed", f("embed.W_E")[tokens])  # [batch, pos, d_model]
    if not rot:
        resid = resid + hook("hook_pos_embed", np.broadcast_to(f("pos_embed.W_pos")[:T][None], resid.shape))
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        resid = hook(p + "hook_resid_pre", resid)
        x = normalize(norm, resid, sd, p + "ln1.", eps, hook)
        q = hook(p + "attn.hook_q", np.einsum("bpd,hde->bphe", x, f(p + "attn.W_Q")) + f(p + "attn.b_Q"))  # [batch, pos, head, d_head]
        k = hook(p + "attn.hook_k", np.einsum("bpd,hde->bphe", x, f(p + "attn.W_K")) + f(p + "attn.b_K"))
        v = hook(p + "attn.hook_v", np.einsum("bpd,hde->bphe", x, f(p + "attn.W_V")) + f(p + "attn.b_V"))
        if rot:
            q = hook(p + "attn.hook_rot_q", rotary(q, cfg))
            k = hook(p + "attn.hook_rot_k", rotary(k, cfg))
        scores = np.einsum("bqhe,bkhe->bhqk", q, k) / np.sqrt(cfg["d_head"])  # [batch, head, query, key]
        # TransformerLens masks with its own buffers: attn.mask (lower triangle) and attn.IGNORE.
        mask = sd[p + "attn.mask"][:T, :T].astype(bool)
        scores = hook(p + "attn.hook_attn_scores", np.where(mask, scores, sd[p + "attn.IGNORE"].astype(np.float64)))
        e = np.exp(scores - scores.max(-1, keepdims=True))
        pattern = hook(p + "attn.hook_pattern", e / e.sum(-1, keepdims=True))
        z = hook(p + "attn.hook_z", np.einsum("bhqk,bkhe->bqhe", pattern, v))
        result = hook(p + "attn.hook_result", np.einsum("bqhe,hed->bqhd", z, f(p + "attn.W_O")))  # [batch, pos, head, d_model]
        attn_out = hook(p + "hook_attn_out", result.sum(2) + f(p + "attn.b_O"))
        if attn_only:
            resid = hook(p + "hook_resid_post", resid + attn_out)
            continue
        mlp_in = resid if parallel else hook(p + "hook_resid_mid", resid + attn_out)
        x = normalize(norm, mlp_in, sd, p + "ln2.", eps, hook)
        pre = hook(p + "mlp.hook_pre", x @ f(p + "mlp.W_in") + f(p + "mlp.b_in"))
        post = hook(p + "mlp.hook_post", act(cfg["act_fn"], pre))
        mlp_out = hook(p + "hook_mlp_out", post @ f(p + "mlp.W_out") + f(p + "mlp.b_out"))
        resid = hook(p + "hook_resid_post", (resid + attn_out + mlp_out) if parallel else (mlp_in + mlp_out))
    x = normalize(norm, resid, sd, "ln_final.", eps, hook)
    return x @ f("unembed.W_U") + f("unembed.b_U"), cache


def main():
    """Writes logits.npy, and with a fourth argument (a directory) every hook as <name>.npy there."""
    sd, meta = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    tokens = np.array(json.load(open(sys.argv[2])), dtype=np.int64)
    logits, cache = forward(sd, cfg, tokens)
    np.save(sys.argv[3], logits)
    if len(sys.argv) > 4:
        for name, value in cache.items():
            np.save(f"{sys.argv[4]}/{name}.npy", np.ascontiguousarray(value))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The PyTorch anchor of `npm run bench -- intervene`: greedy decoding with a hook intervention,
recomputing the whole sequence for every generated token, as a researcher does with
TransformerLens (`model.run_with_hooks(tokens, fwd_hooks=...)` each step, no KV cache). The model is
torch_train.py's GPT (HookedTransformer's arithmetic) loaded with the same weights as ours, and the
intervention is a PyTorch forward hook at the module boundary where TL's hook point sits:

  blocks.L.hook_resid_pre      pre-hook on blocks[L] (its input x)
  blocks.L.hook_resid_post     hook on blocks[L] (its output)
  blocks.L.attn.hook_z         pre-hook on blocks[L].out (W_O): its input [B, T, H·d_head] viewed as [B, T, H, d_head]
  blocks.L.mlp.hook_post       pre-hook on blocks[L].w_out (W_out): its input [B, T, d_mlp]

Kinds: zero, replace (set to `value`, one cell; what mean-ablation does with the mean) and add
(steering), at `positions` (absolute; null = every position, generated ones included) and `heads`
(null = all). Logits are computed at every position each step, as TL's forward does.

Input: one JSON object as argv[1]: the config fields of torch_train.py, "weights" (a safetensors
file with TL state_dict names), "prompts" (lists of token ids), "new_tokens", "stop" (-1: none),
"interventions" (as above), "reps", "budget_s" (optional: no further timed pass once the passes
have taken this long), "threads", "also_threads" (optional: thread counts timed after, on the
same decodes).
Output: one JSON object: tokens_per_s (generated tokens over the median of the timed passes over
every prompt, after one untimed pass), passes (how many were timed), the generated tokens per
prompt, torch version, threads, and "also": the same figures for each of also_threads.
"""
import json
import os
import statistics
import struct
import sys
import time

import torch

from torch_train import GPT


def load_tl_weights(model, path, c):
    """Copies a TL state_dict (safetensors, float32) into torch_train.GPT's fused layout."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    body = bytearray(raw[8 + n :])
    sd = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            continue  # TL's mask / IGNORE buffers; the GPT builds its own mask
        a, b = t["data_offsets"]
        sd[name] = torch.frombuffer(body, dtype=torch.float32, offset=a, count=(b - a) // 4).reshape(t["shape"])
    H, E, d = c["n_heads"], c["d_head"], c["d_model"]
    with torch.no_grad():
        model.embed.weight.copy_(sd["embed.W_E"])
        model.pos.copy_(sd["pos_embed.W_pos"])
        for l, blk in enumerate(model.blocks):
            p = f"blocks.{l}."
            # W_Q [H, d, E]: output feature h·E + e of the fused Linear, weight [out, in].
            blk.qkv.weight.copy_(torch.cat([sd[p + f"attn.W_{k}"].permute(0, 2, 1).reshape(H * E, d) for k in "QKV"]))
            blk.qkv.bias.copy_(torch.cat([sd[p + f"attn.b_{k}"].reshape(H * E) for k in "QKV"]))
            blk.out.weight.copy_(sd[p + "attn.W_O"].reshape(H * E, d).t())
            blk.out.bias.copy_(sd[p + "attn.b_O"])
            for ln in ("ln1", "ln2"):
                getattr(blk, ln).weight.copy_(sd[p + ln + ".w"])
                getattr(blk, ln).bias.copy_(sd[p + ln + ".b"])
            blk.w_in.weight.copy_(sd[p + "mlp.W_in"].t())
            blk.w_in.bias.copy_(sd[p + "mlp.b_in"])
            blk.w_out.weight.copy_(sd[p + "mlp.W_out"].t())
            blk.w_out.bias.copy_(sd[p + "mlp.b_out"])
        model.ln_final.weight.copy_(sd["ln_final.w"])
        model.ln_final.bias.copy_(sd["ln_final.b"])
        model.unembed.weight.copy_(sd["unembed.W_U"].t())
        model.unembed.bias.copy_(sd["unembed.b_U"])


def edit(x, iv, heads_axis):
    """Applies one intervention in place to x [B, T, (H,) f], as a TL hook function does."""
    T = x.shape[1]
    pos = slice(None)
    if iv.get("positions") is not None:
        pos = torch.tensor([p for p in iv["positions"] if p < T], dtype=torch.long)
        if len(pos) == 0:
            return
    sel = (slice(None), pos)
    if heads_axis and iv.get("heads") is not None:
        heads = torch.tensor(iv["heads"], dtype=torch.long)
        sel = (slice(None), pos[:, None] if isinstance(pos, torch.Tensor) else pos, heads)  # every (position, head) pair
    value = None if iv.get("value") is None else torch.tensor(iv["value"], dtype=torch.float32)
    if iv["kind"] == "zero":
        x[sel] = 0
    elif iv["kind"] == "replace":
        x[sel] = value
    elif iv["kind"] == "add":
        x[sel] += value
    else:
        raise ValueError(f"unknown intervention kind {iv['kind']}")


def register(model, iv, c):
    parts = iv["hook"].split(".")
    if parts[0] != "blocks" or len(parts) < 3:
        raise ValueError(f"unsupported hook {iv['hook']}")
    blk = model.blocks[int(parts[1])]
    rest = ".".join(parts[2:])
    H, E = c["n_heads"], c["d_head"]
    if rest == "hook_resid_pre":
        return blk.register_forward_pre_hook(lambda m, args: edit(args[0], iv, False))
    if rest == "hook_resid_post":
        return blk.register_forward_hook(lambda m, args, out: edit(out, iv, False))
    if rest == "mlp.hook_post":
        return blk.w_out.register_forward_pre_hook(lambda m, args: edit(args[0], iv, False))
    if rest == "attn.hook_z":
        return blk.out.register_forward_pre_hook(lambda m, args: edit(args[0].view(*args[0].shape[:2], H, E), iv, True))
    raise ValueError(f"unsupported hook {iv['hook']}")


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(int(c.get("threads") or os.cpu_count() or 1))
    model = GPT(c).eval()
    load_tl_weights(model, c["weights"], c)
    for iv in c["interventions"]:
        register(model, iv, c)
    prompts = [torch.tensor(p, dtype=torch.long)[None] for p in c["prompts"]]
    N, stop, n_ctx = c["new_tokens"], c["stop"], c["n_ctx"]

    def decode(prompt):
        seq = prompt
        for _ in range(N):
            if seq.shape[1] >= n_ctx:
                break
            nxt = model(seq)[0, -1].argmax()  # the first maximum on ties, as ours
            seq = torch.cat([seq, nxt.view(1, 1)], dim=1)
            if int(nxt) == stop:
                break
        return seq[0, prompt.shape[1] :].tolist()

    def timed():
        """Median seconds of up to reps passes over every prompt; no new pass once budget_s is spent
        (two threads beside other load can run 10x slower, see intervene.ts)."""
        times = []
        while len(times) < c["reps"] and sum(times) < c.get("budget_s", float("inf")):
            t0 = time.perf_counter()
            for p in prompts:
                decode(p)
            times.append(time.perf_counter() - t0)
        return statistics.median(times), len(times)

    with torch.inference_mode():
        generated = [decode(p) for p in prompts]  # untimed: warms the allocator and kernels
        count = sum(len(g) for g in generated)
        s, passes = timed()
        threads = torch.get_num_threads()
        also = []
        for n in c.get("also_threads") or []:
            torch.set_num_threads(n)
            decode(prompts[0])  # untimed
            t, k = timed()
            also.append({"threads": torch.get_num_threads(), "tokens_per_s": count / t, "median_s": t, "passes": k})
    print(json.dumps({
        "tokens_per_s": count / s,
        "median_s": s,
        "passes": passes,
        "generated_tokens": count,
        "generated": generated,
        "torch": torch.__version__,
        "threads": threads,
        "also": also,
    }))


if __name__ == "__main__":
    main()

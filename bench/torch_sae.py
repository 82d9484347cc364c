#!/usr/bin/env python3
"""The PyTorch anchor of `npm run bench -- sae`: the same sparse autoencoder training step as
server/interp/sae/train.ts, written as a researcher would in PyTorch (SAELens' arithmetic): encode
(x - b_dec) W_enc + b_enc, TopK (or ReLU with an L1 penalty), decode, mean squared error summed
over features, autograd backward, the decoder-parallel gradient removed, Adam (0.9, 0.999), decoder
rows renormalised.

Input: one JSON object as argv[1]: d_in, d_sae, architecture ("topk" | "relu"), k, l1, batch,
steps, warmup, lr, threads (optional; default: all cores).
Output: one JSON object: steps_per_s (median over the timed steps), final mse, torch version, threads.
"""
import json
import os
import statistics
import sys
import time

import torch


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(int(c.get("threads") or os.cpu_count() or 1))
    d_in, d_sae, B = c["d_in"], c["d_sae"], c["batch"]
    W_dec = torch.randn(d_sae, d_in)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    W_dec = torch.nn.Parameter(W_dec)
    W_enc = torch.nn.Parameter(W_dec.detach().t().clone())
    b_enc = torch.nn.Parameter(torch.zeros(d_sae))
    b_dec = torch.nn.Parameter(torch.zeros(d_in))
    opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=c["lr"], betas=(0.9, 0.999))
    data = torch.randn(8, B, d_in)

    def step(x):
        pre = (x - b_dec) @ W_enc + b_enc
        if c["architecture"] == "topk":
            vals, idx = pre.topk(c["k"], dim=-1, sorted=False)
            z = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
        else:
            z = torch.relu(pre)
        x_hat = z @ W_dec + b_dec
        mse = (x_hat - x).pow(2).sum(-1).mean()
        loss = mse + (c["l1"] * z.sum(-1).mean() if c["architecture"] == "relu" else 0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            g = W_dec.grad
            g.sub_((g * W_dec).sum(-1, keepdim=True) * W_dec)
        opt.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=1, keepdim=True))
        return mse.item()

    for i in range(c["warmup"]):
        step(data[i % 8])
    times = []
    mse = float("nan")
    for i in range(c["steps"]):
        t0 = time.perf_counter()
        mse = step(data[i % 8])
        times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    print(json.dumps({"steps_per_s": 1 / s, "median_ms": s * 1000, "mse": mse, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The PyTorch anchor of `npm run bench -- sae`: the same sparse autoencoder training step as
server/interp/sae/train.ts, written as a researcher would in PyTorch (SAELens' arithmetic): encode
(x - b_dec) W_enc + b_enc, TopK (or ReLU with an L1 penalty), decode, mean squared error summed
over features, autograd backward, the decoder-parallel gradient removed, Adam (0.9, 0.999), decoder
rows renormalised. JumpReLU as SAELens and the paper (Rajamanoharan et al. 2024) train it: custom
autograd functions for z = pre·H(pre − θ) and the L0 term ΣH(pre − θ), with the rectangle kernel's
straight-through pseudo-derivatives for θ = exp(log θ).

Input: one JSON object as argv[1]: d_in, d_sae, architecture ("topk" | "relu" | "jumprelu"), k, l1
(relu: L1; jumprelu: the L0 coefficient), threshold and bandwidth (jumprelu), batch, steps, warmup,
lr, threads (optional; default: all cores).
Output: one JSON object: steps_per_s (median over the timed steps), final mse, torch version, threads.
"""
import json
import os
import statistics
import sys
import time

import torch


def rectangle(u):
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class JumpReLU(torch.autograd.Function):
    """z = pre·H(pre − θ); ∂z/∂pre = H, ∂z/∂θ = −(θ/ε)·K((pre − θ)/ε)."""

    @staticmethod
    def forward(ctx, pre, threshold, bandwidth):
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return pre * (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx, g):
        pre, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        d_pre = (pre > threshold).to(pre.dtype) * g
        d_th = (-(threshold / eps) * rectangle((pre - threshold) / eps) * g).sum(0)
        return d_pre, d_th, None


class Step(torch.autograd.Function):
    """H(pre − θ); no gradient to pre, ∂H/∂θ = −(1/ε)·K((pre − θ)/ε)."""

    @staticmethod
    def forward(ctx, pre, threshold, bandwidth):
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx, g):
        pre, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        return torch.zeros_like(pre), (-(1.0 / eps) * rectangle((pre - threshold) / eps) * g).sum(0), None


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
    params = [W_enc, b_enc, W_dec, b_dec]
    jump = c["architecture"] == "jumprelu"
    if jump:
        log_threshold = torch.nn.Parameter(torch.full((d_sae,), float(c["threshold"])).log())
        params.append(log_threshold)
    opt = torch.optim.Adam(params, lr=c["lr"], betas=(0.9, 0.999))
    data = torch.randn(8, B, d_in)

    def step(x):
        pre = (x - b_dec) @ W_enc + b_enc
        sparsity = 0
        if c["architecture"] == "topk":
            vals, idx = pre.topk(c["k"], dim=-1, sorted=False)
            z = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
        elif jump:
            threshold = log_threshold.exp()
            z = JumpReLU.apply(pre, threshold, c["bandwidth"])
            sparsity = c["l1"] * Step.apply(pre, threshold, c["bandwidth"]).sum(-1).mean()
        else:
            z = torch.relu(pre)
            sparsity = c["l1"] * z.sum(-1).mean()
        x_hat = z @ W_dec + b_dec
        mse = (x_hat - x).pow(2).sum(-1).mean()
        loss = mse + sparsity
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

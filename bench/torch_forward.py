#!/usr/bin/env python3
"""Forward-pass timing of the independent PyTorch GPT in torch_train.py (same arithmetic as
TransformerLens' HookedTransformer), the anchor of `npm run bench -- forward`.

Input: one JSON object as argv[1]: the config fields of torch_train.py plus "batch", "seq",
"reps" and "threads" (optional; default: all cores).
Output: one JSON object: median_ms over reps (after one warm-up), tokens_per_s, torch version, threads.
"""
import json
import os
import statistics
import sys
import time

import torch

from torch_train import GPT


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(int(c.get("threads") or os.cpu_count() or 1))
    model = GPT(c).eval()
    B, T = c["batch"], c["seq"]
    tokens = torch.randint(0, c["d_vocab"], (B, T))
    times = []
    with torch.inference_mode():
        for _ in range(int(c.get("warmup") or 1)):  # as many untimed runs as ours get
            model(tokens)
        for _ in range(c["reps"]):
            t0 = time.perf_counter()
            model(tokens)
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({"median_ms": ms, "tokens_per_s": B * T / (ms / 1000), "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()

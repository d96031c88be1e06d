#!/usr/bin/env python3
"""Independent NumPy reference for the operation models.

Builds a small random GPT-2-style model (2 layers, 2 heads, n_embd 16,
vocab 11, context 8) in picoGPT's JSON layout, runs every operation and the
whole model in float64 NumPy, and writes:
    Tests/Fixtures/small-model.json      the model
    Tests/Fixtures/small-model-ops.json  inputs and outputs of every operation
It also runs the hand-set "aab" model from ../shared/handmade-model.json
(or Sources/Transformer's copy) on "aab". Run from the repo root:
    python3 scripts/make_fixtures.py
"""
import json
import os
import numpy as np

from numpy_gpt import attention, block, gelu, gpt, layer_norm, linear, mlp, softmax

rng = np.random.default_rng(4)
N_CTX, N_VOCAB, N_EMBD, N_HEAD, N_LAYER = 8, 11, 16, 2, 2


def lin(n_in, n_out, scale=0.2):
    return {"w": rng.normal(scale=scale, size=(n_in, n_out)), "b": rng.normal(scale=0.05, size=n_out)}


def ln(d):
    return {"g": 1 + rng.normal(scale=0.1, size=d), "b": rng.normal(scale=0.1, size=d)}


model = {
    "config": {"n_ctx": N_CTX, "n_vocab": N_VOCAB, "n_embd": N_EMBD, "n_head": N_HEAD, "n_layer": N_LAYER},
    "wte": rng.normal(scale=0.5, size=(N_VOCAB, N_EMBD)),
    "wpe": rng.normal(scale=0.2, size=(N_CTX, N_EMBD)),
    "blocks": [{
        "ln_1": ln(N_EMBD),
        "attn": {"c_attn": lin(N_EMBD, 3 * N_EMBD), "c_proj": lin(N_EMBD, N_EMBD)},
        "ln_2": ln(N_EMBD),
        "mlp": {"c_fc": lin(N_EMBD, 4 * N_EMBD), "c_proj": lin(4 * N_EMBD, N_EMBD)},
    } for _ in range(N_LAYER)],
    "ln_f": ln(N_EMBD),
}


def to_json(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, dict):
        return {k: to_json(v) for k, v in o.items()}
    if isinstance(o, list):
        return [to_json(v) for v in o]
    return o


x = rng.normal(size=(5, N_EMBD))
wide = rng.normal(scale=30, size=(4, 9))   # large logits: the softmax must be stable
tokens = rng.integers(0, N_VOCAB, size=N_CTX)
b0 = model["blocks"][0]
ops = {
    "x": x,
    "linear": linear(x, b0["attn"]["c_attn"]),
    "gelu": gelu(x),
    "softmax_input": wide,
    "softmax": softmax(wide),
    "layer_norm": layer_norm(x, **b0["ln_1"]),
    "attention": attention(x, b0["attn"], N_HEAD),
    "mlp": mlp(x, b0["mlp"]),
    "block": block(x, b0, N_HEAD),
    "tokens": tokens.tolist(),
    "logits": gpt(tokens, model),
    "logits_prefix3": gpt(tokens[:3], model),
}

shared = "../shared/handmade-model.json"
if os.path.exists(shared):
    with open(shared) as f:
        hm = json.load(f)
    hm = {k: (np.array(v) if k in ("wte", "wpe") else v) for k, v in hm.items()}
    for p in hm["blocks"]:
        for name in ("c_attn", "c_proj"):
            p["attn"][name] = {k: np.array(v) for k, v in p["attn"][name].items()}
    ops["handmade_aab_logits"] = gpt(np.array([0, 0, 1]), hm)

os.makedirs("Tests/Fixtures", exist_ok=True)
with open("Tests/Fixtures/small-model.json", "w") as f:
    json.dump(to_json(model), f)
with open("Tests/Fixtures/small-model-ops.json", "w") as f:
    json.dump(to_json(ops), f)
print("wrote Tests/Fixtures/small-model.json and small-model-ops.json")

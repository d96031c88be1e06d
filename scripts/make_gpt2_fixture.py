#!/usr/bin/env python3
"""Builds a small random GPT-2 in the Hugging Face layout, and its expected
outputs from an independent NumPy forward pass.

    pip install numpy safetensors
    python3 scripts/make_gpt2_fixture.py

Writes Tests/Fixtures/tiny-gpt2/{config.json, model.safetensors} (F32, tensor
names as Hugging Face's GPT-2, with the attn.bias mask buffers it stores) and
Tests/Fixtures/tiny-gpt2-expected.json: the logits of every position of a
prompt, and a greedy continuation computed by full recomputation.
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

from numpy_gpt import gpt

N_LAYER, N_HEAD, N_EMBD, N_VOCAB, N_CTX = 2, 4, 64, 97, 32
rng = np.random.default_rng(124)
out_dir = "Tests/Fixtures/tiny-gpt2"
os.makedirs(out_dir, exist_ok=True)


def normal(*shape, scale=0.2):
    return rng.normal(scale=scale, size=shape).astype(np.float32)


tensors = {"wte.weight": normal(N_VOCAB, N_EMBD, scale=0.5), "wpe.weight": normal(N_CTX, N_EMBD)}
for i in range(N_LAYER):
    h = f"h.{i}."
    tensors.update({
        h + "ln_1.weight": 1 + normal(N_EMBD, scale=0.1), h + "ln_1.bias": normal(N_EMBD, scale=0.1),
        h + "attn.c_attn.weight": normal(N_EMBD, 3 * N_EMBD), h + "attn.c_attn.bias": normal(3 * N_EMBD, scale=0.05),
        h + "attn.c_proj.weight": normal(N_EMBD, N_EMBD), h + "attn.c_proj.bias": normal(N_EMBD, scale=0.05),
        h + "ln_2.weight": 1 + normal(N_EMBD, scale=0.1), h + "ln_2.bias": normal(N_EMBD, scale=0.1),
        h + "mlp.c_fc.weight": normal(N_EMBD, 4 * N_EMBD), h + "mlp.c_fc.bias": normal(4 * N_EMBD, scale=0.05),
        h + "mlp.c_proj.weight": normal(4 * N_EMBD, N_EMBD, scale=0.1), h + "mlp.c_proj.bias": normal(N_EMBD, scale=0.05),
        # Hugging Face stores the causal mask as a buffer; loaders must skip it.
        h + "attn.bias": np.tril(np.ones((N_CTX, N_CTX), dtype=np.float32)).reshape(1, 1, N_CTX, N_CTX),
    })
tensors["ln_f.weight"] = 1 + normal(N_EMBD, scale=0.1)
tensors["ln_f.bias"] = normal(N_EMBD, scale=0.1)
save_file(tensors, f"{out_dir}/model.safetensors", metadata={"format": "pt"})

config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": N_EMBD, "n_head": N_HEAD,
          "n_layer": N_LAYER, "n_positions": N_CTX, "n_ctx": N_CTX, "vocab_size": N_VOCAB,
          "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
with open(f"{out_dir}/config.json", "w") as f:
    json.dump(config, f, indent=2)

# The reference runs in float64 on exactly the float32 values stored.
t = {k: v.astype(np.float64) for k, v in tensors.items()}
model = {
    "config": {"n_head": N_HEAD},
    "wte": t["wte.weight"], "wpe": t["wpe.weight"],
    "blocks": [{
        "ln_1": {"g": t[f"h.{i}.ln_1.weight"], "b": t[f"h.{i}.ln_1.bias"]},
        "attn": {"c_attn": {"w": t[f"h.{i}.attn.c_attn.weight"], "b": t[f"h.{i}.attn.c_attn.bias"]},
                 "c_proj": {"w": t[f"h.{i}.attn.c_proj.weight"], "b": t[f"h.{i}.attn.c_proj.bias"]}},
        "ln_2": {"g": t[f"h.{i}.ln_2.weight"], "b": t[f"h.{i}.ln_2.bias"]},
        "mlp": {"c_fc": {"w": t[f"h.{i}.mlp.c_fc.weight"], "b": t[f"h.{i}.mlp.c_fc.bias"]},
                "c_proj": {"w": t[f"h.{i}.mlp.c_proj.weight"], "b": t[f"h.{i}.mlp.c_proj.bias"]}},
    } for i in range(N_LAYER)],
    "ln_f": {"g": t["ln_f.weight"], "b": t["ln_f.bias"]},
}

prompt = [int(x) for x in rng.integers(0, N_VOCAB, size=7)]
logits = gpt(np.array(prompt), model)
tokens = list(prompt)
for _ in range(12):
    tokens.append(int(np.argmax(gpt(np.array(tokens), model)[-1])))

with open("Tests/Fixtures/tiny-gpt2-expected.json", "w") as f:
    json.dump({"prompt": prompt, "logits": logits.tolist(), "greedy": tokens[len(prompt):],
               "parameter_count": int(sum(v.size for k, v in tensors.items() if not k.endswith(".attn.bias")))}, f)
print(f"wrote {out_dir} and Tests/Fixtures/tiny-gpt2-expected.json")

#!/usr/bin/env python3
"""Writes Tests/Fixtures/shakespeare-llama-expected.json: what Hugging Face
`tokenizers` and a float64 NumPy reference (scripts/make_llama_fixtures.py's,
checked there against `transformers`) make of Models/shakespeare-llama.

    pip install numpy torch transformers tokenizers safetensors
    python3 scripts/make_shakespeare_llama_fixture.py

For a prompt: its ids (`tokenizers`, from tokenizer.json), the logits at every
position in float64, and a greedy continuation of 40 tokens (ids and text);
the reference's logits are checked against `transformers` (LlamaForCausalLM
in float64, its float32 upcasts patched out) before they are written.
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import LlamaForCausalLM

sys.path.insert(0, os.path.dirname(__file__))
from make_llama_fixtures import forward, greedy, patched_float64, reference_config, transformers_logits  # noqa: E402

directory = "Models/shakespeare-llama"
prompt = "ROMEO:\nBut, soft! what light through yonder window breaks?"
tokenizer = Tokenizer.from_file(f"{directory}/tokenizer.json")
ids = tokenizer.encode(prompt).ids
hf = json.load(open(f"{directory}/config.json"))
cfg = reference_config(hf)
params = {k: v.double().numpy() for k, v in load_file(f"{directory}/model.safetensors").items()}
logits = forward(params, cfg, ids)

torch.set_grad_enabled(False)
model = patched_float64(LlamaForCausalLM.from_pretrained(directory, attn_implementation="sdpa", dtype=torch.float64).eval())
difference = float(np.abs(transformers_logits(model, cfg, ids, float64_angles=True) - logits).max() / np.abs(logits).max())
assert difference < 1e-13, f"the reference differs from transformers (patched) by {difference}"

continuation = greedy(params, cfg, ids, 40)
out = "Tests/Fixtures/shakespeare-llama-expected.json"
json.dump({"prompt": prompt, "ids": ids, "logits": logits.tolist(), "greedy": continuation,
           "greedy_text": tokenizer.decode(continuation), "transformers_patched_relative_difference": difference},
          open(out, "w"), separators=(",", ":"))
print(f"wrote {out}: {len(ids)} prompt tokens, greedy continuation {tokenizer.decode(continuation)!r}; transformers {difference:.1e}")

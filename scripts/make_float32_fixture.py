#!/usr/bin/env python3
"""Writes Tests/Fixtures/tiny-gpt2-float32.json: the float32 reference for
`--dtype float32`, from Hugging Face `transformers` (GPT2LMHeadModel in
torch.float32, single-threaded) on Tests/Fixtures/tiny-gpt2.

    pip install torch transformers safetensors
    python3 scripts/make_float32_fixture.py

For the prompt of tiny-gpt2-expected.json: the logits at every position, and a
greedy continuation of 12 tokens, both computed in float32.
"""
import json

import torch
from transformers import GPT2LMHeadModel

torch.set_num_threads(1)
directory = "Tests/Fixtures/tiny-gpt2"
prompt = json.load(open("Tests/Fixtures/tiny-gpt2-expected.json"))["prompt"]
model = GPT2LMHeadModel.from_pretrained(directory, torch_dtype=torch.float32).eval()
with torch.no_grad():
    logits = model(torch.tensor([prompt])).logits[0]
    greedy = model.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, min_new_tokens=12,
                            pad_token_id=0)[0, len(prompt):].tolist()

out = "Tests/Fixtures/tiny-gpt2-float32.json"
json.dump({"prompt": prompt, "logits": logits.double().tolist(), "greedy": greedy,
           "torch": torch.__version__, "transformers": __import__("transformers").__version__},
          open(out, "w"), separators=(",", ":"))
print(f"wrote {out}: greedy {greedy}")

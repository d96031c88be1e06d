#!/usr/bin/env python3
"""Writes Tests/Fixtures/shakespeare-tiny-expected.json: what Hugging Face
`transformers` (GPT2LMHeadModel) and `tokenizers` make of Models/shakespeare-tiny,
the first check of our GPT-2 against an implementation that is not our own port.

    pip install torch transformers tokenizers safetensors
    python3 scripts/make_shakespeare_fixture.py

For a prompt: its ids (`tokenizers`, from vocab.json + merges.txt), the logits
at every position in float64 and in float32, and a greedy continuation of 40
tokens in float64 (ids and text).
"""
import json

import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import GPT2LMHeadModel

directory = "Models/shakespeare-tiny"
prompt = "ROMEO:\nBut, soft! what light through yonder window breaks?"
tokenizer = ByteLevelBPETokenizer(f"{directory}/vocab.json", f"{directory}/merges.txt", add_prefix_space=False)
ids = tokenizer.encode(prompt).ids

model = GPT2LMHeadModel.from_pretrained(directory).eval()
with torch.no_grad():
    logits32 = model(torch.tensor([ids])).logits[0]
    model64 = model.double()
    logits64 = model64(torch.tensor([ids])).logits[0]
    greedy = model64.generate(torch.tensor([ids]), max_new_tokens=40, do_sample=False,
                              pad_token_id=model.config.eos_token_id)[0, len(ids):].tolist()

out = "Tests/Fixtures/shakespeare-tiny-expected.json"
json.dump({"prompt": prompt, "ids": ids, "logits": logits64.tolist(), "logits_float32": logits32.double().tolist(),
           "greedy": greedy, "greedy_text": tokenizer.decode(greedy),
           "torch": torch.__version__, "transformers": __import__("transformers").__version__},
          open(out, "w"), separators=(",", ":"))
print(f"wrote {out}: {len(ids)} prompt tokens, greedy continuation {tokenizer.decode(greedy)!r}")

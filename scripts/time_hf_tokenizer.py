#!/usr/bin/env python3
"""Times Hugging Face `tokenizers` encoding Benchmarks/Data/english-1mb.txt with
GPT-2's vocabulary (Tests/Fixtures/gpt2-tokenizer), one `encode` call on one
thread, as `bench --filter tokenizer` times ours; prints one JSON object
{"megabytes_per_second": median, "min_seconds": …, "median_seconds": …, "tokens": …}.

    pip install tokenizers
    python3 scripts/time_hf_tokenizer.py [RUNS]
"""
import json
import os
import statistics
import sys
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
directory = "Tests/Fixtures/gpt2-tokenizer"
vocab = json.load(open(f"{directory}/encoder.json", encoding="utf-8"))
lines = open(f"{directory}/vocab.bpe", encoding="utf-8").read().split("\n")
tokenizer = Tokenizer(models.BPE(vocab, [tuple(line.split(" ")) for line in lines[1:] if line]))
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
text = open("Benchmarks/Data/english-1mb.txt", encoding="utf-8").read()
size = len(text.encode())
tokens = len(tokenizer.encode(text).ids)  # warm-up
times = []
for _ in range(runs):
    start = time.perf_counter()
    tokenizer.encode(text)
    times.append(time.perf_counter() - start)
median = statistics.median(times)
print(json.dumps({"megabytes_per_second": size / median / 1e6, "median_seconds": median, "min_seconds": min(times),
                  "tokens": tokens, "bytes": size}))

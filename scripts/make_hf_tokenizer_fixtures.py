#!/usr/bin/env python3
"""Writes Tests/Fixtures/hf-tokenizers/: small tokenizers trained with Hugging
Face `tokenizers`, each with the pre-tokenizer, normaliser, decoder and special
tokens of a Llama-family model's `tokenizer.json`, and the ids `tokenizers`
gives a varied corpus (cases.json), which the Swift tokenizer must equal.

  llama3    byte-level BPE, Llama 3's Split pattern (numbers in threes),
            ignore_merges, <|begin_of_text|> added by the post-processor
  qwen2     byte-level BPE, NFC, Qwen2's Split pattern (numbers one by one),
            ChatML special tokens, merges spelled "a b" (the older form)
  smollm2   byte-level BPE, Digits(individual) then GPT-2's pattern
  llama2    SentencePiece-style BPE: Metaspace (prepend_scheme first), byte
            fallback to <0xXX> tokens, <s> added (tokenizer_config.json says
            add_bos_token), the decoder strips the leading space

Trained on Benchmarks/Data/english-1mb.txt plus a few lines of other scripts.

Usage (needs tokenizers): python3 scripts/make_hf_tokenizer_fixtures.py
"""
import json
import os
import shutil

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "hf-tokenizers")
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

OTHER_SCRIPTS = [
    "Café crème brûlée, naïve façade — déjà vu. Ærø, Øresund, Straße, İstanbul.",
    "Привет, мир! Как дела? Ελληνικά γράμματα. עברית. العربية.",
    "日本語のテキストと中文文本，한국어 텍스트도 있습니다。",
    "Emoji: 😀🎉👍🏽 👨‍👩‍👧 ❤️ — and math: ∑ x² ≤ ∞, ½ + ¼ = ¾, Ⅻ, ٣٤٥.",
]

CASES = [
    "", " ", "  ", "\n", "Hello, world", " Hello", "Hello  world", "hello\tworld", "line one\nline two\r\nline three\r",
    "I'm sure you've seen it, they'll say we'd DON'T, SHE'S, It'S, o'clock, rock 'n' roll",
    "Numbers: 1 12 123 1234 12345 1234567890 3.14159 -42 1,000,000 2024-12-04",
    "   leading spaces and trailing spaces   ", "tabs\t\tand\t newlines\n\n\nend", "punctuation!!! ... ??? --- (parens) [brackets] {braces}",
    "mixed123letters and letters456 and 7eleven", "CAPITALS and MiXeD cAsE", "a\u00a0non-breaking\u2003em space\u3000ideographic",
    "Cafe\u0301 vs Café (decomposed vs composed)", "Ａｂｃ fullwidth, ﬁ ligature",
    *OTHER_SCRIPTS,
    "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,",
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.",
    "\ud83d\ude00" if False else "zero-width\u200bjoiner\u200dand\ufeffBOM",
]


def corpus():
    text = open(os.path.join(ROOT, "Benchmarks", "Data", "english-1mb.txt"), encoding="utf-8").read()
    lines = text.splitlines()
    return [" ".join(lines[i:i + 8]) for i in range(0, len(lines), 8)] + OTHER_SCRIPTS * 20


def byte_level(name, pre, normalizer, specials, bos=None, eos=None, string_merges=False, ignore_merges=False, vocab=700):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                           special_tokens=[(bos, tok.token_to_id(bos))])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    save(name, tok, {"bos_token": bos, "eos_token": eos}, string_merges)


def llama2(name, vocab=700):
    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens, show_progress=False,
                                  limit_alphabet=120)
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    save(name, tok, {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
         False, drop_added=set(byte_tokens))


def save(name, tok, config, string_merges, drop_added=()):
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "tokenizer.json")
    tok.save(path)
    data = json.load(open(path, encoding="utf-8"))
    if drop_added:     # Llama 2's byte tokens are in the vocabulary, not added tokens
        data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] not in drop_added]
    if string_merges:  # the spelling of merges before tokenizers 0.20
        data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]]
    json.dump(data, open(path, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    json.dump({k: v for k, v in config.items() if v is not None}, open(os.path.join(directory, "tokenizer_config.json"), "w"), indent=1)
    tok = Tokenizer.from_file(path)     # as saved, with the edits
    cases = [{"text": text, "ids": tok.encode(text).ids, "decoded": tok.decode(tok.encode(text).ids, skip_special_tokens=False)}
             for text in CASES + [s for s in specials_in(data)]]
    json.dump({"vocabulary_size": tok.get_vocab_size(with_added_tokens=True), "cases": cases},
              open(os.path.join(directory, "cases.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    print(f"{name}: {tok.get_vocab_size(with_added_tokens=True)} tokens, {len(cases)} cases")


def specials_in(data):
    """Texts with the added tokens written literally among other text."""
    tokens = [t["content"] for t in data["added_tokens"]]
    return [f"before{t}after {t} {t}{t}" for t in tokens[:3]]


shutil.rmtree(OUT, ignore_errors=True)
byte_level("llama3", pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated", invert=False),
                                              pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
           None, ["<|begin_of_text|>", "<|end_of_text|>"], bos="<|begin_of_text|>", eos="<|end_of_text|>", ignore_merges=True)
byte_level("qwen2", pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2), behavior="isolated", invert=False),
                                             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
           normalizers.NFC(), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], eos="<|endoftext|>", string_merges=True)
byte_level("smollm2", pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                               pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
           None, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], eos="<|endoftext|>")
llama2("llama2")

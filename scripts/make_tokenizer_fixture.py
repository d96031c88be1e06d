#!/usr/bin/env python3
"""Writes Tests/Fixtures/gpt2-tokenizer-expected.json: the ids Hugging Face
`tokenizers` gives a varied corpus with GPT-2's vocabulary
(Tests/Fixtures/gpt2-tokenizer: encoder.json = vocab.json, vocab.bpe =
merges.txt), `<|endoftext|>` added as a special token, as GPT-2's tokenizer has it.

    pip install tokenizers
    python3 scripts/make_tokenizer_fixture.py
"""
import json
import random

from tokenizers import Tokenizer, decoders, models, pre_tokenizers

directory = "Tests/Fixtures/gpt2-tokenizer"
vocab = json.load(open(f"{directory}/encoder.json", encoding="utf-8"))
lines = open(f"{directory}/vocab.bpe", encoding="utf-8").read().split("\n")
merges = [tuple(line.split(" ")) for line in lines[1:] if line]
tokenizer = Tokenizer(models.BPE(vocab, merges))
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
tokenizer.add_special_tokens(["<|endoftext|>"])

corpus = [
    # ASCII and punctuation
    "Hello, world", "The quick brown fox jumps over the lazy dog.", "Hello world!", "a",
    "Wait... what?! (yes) [no] {maybe} <tag> \"quoted\" -- dash; semi:colon", "@#$%^&*_+=|\\/~`",
    "e.g. i.e. etc. Mr. Smith's U.S.A.", "snake_case camelCase kebab-case SCREAMING_CASE",
    # numbers
    "1234567890", "3.14159", "1,000,000", "2024-11-23T20:48:26Z", "12ab34cd", " 42 ", "007",
    "٣٤٥ ½ ² Ⅻ ⅓", "x=1+2*3/4-5",
    # contractions, lower and upper case
    "don't can't won't it's I'm you're we've they'll he'd", "DON'T CAN'T IT'S I'M YOU'RE WE'VE THEY'LL HE'D",
    "Don'T It'S We'Ve", "'s 't 're 've 'm 'll 'd", "''''", "rock'n'roll", "'tis", "' s", "’s curly",
    # runs of spaces, tabs and newlines; leading and trailing white space
    "a  b", "a   b", "  leading", "trailing  ", "tab\there", "\t\tdouble tab", "new\nline", "\n\n\nthree newlines",
    "mixed \t\n \r\n ends", "   ", "\n", " ", "\r\n", "word ", "word\n", "word \n ", "a \n\n b", " \t x",
    # accented and combining characters
    "café naïve résumé Zürich Ångström façade", "cafe\u0301 n\u0303 a\u030a", "Ελληνικά Кириллица עברית العربية",
    # CJK
    "日本語のテキスト", "中文文本，标点。", "한국어 텍스트", "漢字かなカナ混じり文",
    # emoji, with skin tones and zero-width-joiner sequences
    "😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️", "a😀b", "🇺🇳🇫🇷", "✔️✅❌",
    # non-breaking and other Unicode spaces and separators
    "a\u00a0b", "a\u2003b\u3000c", "x\u2028y\u2029z", "nbsp\u00a0\u00a0words", "\u00a0 lead", "a\u200bb",
    "a\u0085b", "a\x0bb\x0cc", "a\x1cb\x1dc", "end\u00a0", "\u2009thin\u202fnarrow\u205fmath",
    # control characters
    "\x00\x01\x7f", "bell\x07",
    # very long words
    "a" * 1000, "supercalifragilisticexpialidocious" * 20, "😀" * 100, "ab" * 500, "1" * 300, "!" * 200,
    # the special token
    "Hello<|endoftext|>World", "<|endoftext|>", "<|endoftext", "a <|endoftext|> b<|endoftext|><|endoftext|>",
]

# 10 kB of mixed text: the samples above and some English, shuffled together.
rng = random.Random(13)
words = ("the of and to in is that it was for on are as with his they be at one have this from or had by "
         "word but what some we can out other were all there when up use your how said an each she which do").split()
pieces = []
while sum(len(p.encode()) for p in pieces) < 10_000:
    pieces.append(rng.choice(corpus[:-10]) if rng.random() < 0.3 else " ".join(rng.choice(words) for _ in range(rng.randint(1, 12))))
    pieces.append(rng.choice([" ", "\n", ". ", ", ", "\n\n", "\t", ""]))
corpus.append("".join(pieces))

cases = [{"text": text, "ids": tokenizer.encode(text).ids} for text in corpus]
out = "Tests/Fixtures/gpt2-tokenizer-expected.json"
json.dump({"tokenizers_version": __import__("tokenizers").__version__, "cases": cases},
          open(out, "w", encoding="utf-8"), ensure_ascii=True, indent=0)
print(f"wrote {out}: {len(cases)} texts, {sum(len(c['ids']) for c in cases)} ids")

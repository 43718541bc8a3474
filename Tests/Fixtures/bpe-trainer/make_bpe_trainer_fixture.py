#!/usr/bin/env python3
"""Reference results for BPETrainerTests, from a plain Python BPE trainer and Hugging Face `tokenizers`.

    /work/venv/bin/python Tests/Fixtures/bpe-trainer/make_bpe_trainer_fixture.py
    /work/venv/bin/python Tests/Fixtures/bpe-trainer/make_bpe_trainer_fixture.py --check tokenizer.json

Writes (in this folder):
  corpus.json     the training documents and settings (vocabulary size, minimum frequency, special tokens)
  tokenizer.json  the BPE trained here, saved by `tokenizers` (same layout as BPETrainer's file)
  expected.json   the merges, and texts with the ids `tokenizers` gives them and their decodes

The trainer here recounts every pair after every merge (slow, obviously right); BPETrainer must find the same
merges: highest count first, ties to the smallest (left, right) byte strings. Documents are pre-tokenized by
`tokenizers` itself after cutting out the special tokens.

--check FILE loads a tokenizer.json written by BPETrainer (from corpus.json) with `tokenizers` and checks
that it has the merges and gives the ids of expected.json.
"""
import json
import os
import random
import re
import sys
from collections import Counter

import tokenizers
from tokenizers import Regex, Tokenizer, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIAL = ["<pad>", "<eos>", "<bos>"]
VOCABULARY_SIZE = len(SPECIAL) + 256 + 200
MINIMUM_FREQUENCY = 2


def bytes_to_unicode():
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {char: byte for byte, char in BYTE_TO_CHAR.items()}


def byte_level(raw):
    return "".join(BYTE_TO_CHAR[b] for b in raw)


def corpus():
    rng = random.Random(20240611)
    names = ["alpha", "zeta", "sol", "calc"]
    documents = []
    for _ in range(400):
        a, b = rng.randrange(1000), rng.randrange(100)
        plus = rng.random() < 0.5
        value, op = (a + b, "+") if plus else (a - b, "-")
        kind = rng.randrange(5)
        if kind == 0:
            text = f"{a} {op} {b} = {value}"
        elif kind == 1:
            text = f"What is {a} {op} {b}? The answer is {value}."
        elif kind == 2:
            tag = rng.choice(names)
            text = f"Put the answer in <{tag}></{tag}>. What's {a} {op} {b}?\n<{tag}>{value}</{tag}>"
        elif kind == 3:
            text = f"Café über naïve: {a}€ — {b}€ 😀\n\n  indented   lines\tand tabs"
        else:
            text = f"If you have {a} apples and you'll get {b} more, you've {value} apples."
        if rng.random() < 0.2:
            text += "<eos>"
        documents.append(text)
    return documents


TEXTS = [
    "",
    " ",
    "12345 + 678 = 13023",
    "What is 71 + 12? The answer is 83.",
    "Put the answer in <zeta></zeta>. What's 5 - 3?\n<zeta>2</zeta>",
    "If you have 10 apples and you'll get 2 more, you've 12 apples.",
    "unseen bytes: \x07\x1b ~ 中文 😺 👨‍👩‍👧 \u00ad",
    "Café über naïve: 3€ — 4€ 😀\n\n  indented   lines\tand tabs\r\n",
    "special <bos>What is 1 + 1?<eos><pad><pad>",
    "SHE'S I'LL 'Re  trailing   ",
]


def pieces(documents, pre_tokenizer):
    """Distinct pre-tokens (raw bytes) in order of first occurrence, with their counts."""
    counts = Counter()
    order = []
    splitter = re.compile("(" + "|".join(re.escape(s) for s in sorted(SPECIAL, key=len, reverse=True)) + ")")
    for document in documents:
        for part in splitter.split(document):
            if not part or part in SPECIAL:
                continue
            for piece, _ in pre_tokenizer.pre_tokenize_str(part):
                raw = bytes(CHAR_TO_BYTE[c] for c in piece)
                if raw not in counts:
                    order.append(raw)
                counts[raw] += 1
    return [(raw, counts[raw]) for raw in order]


def train(words):
    words = [([bytes([b]) for b in raw], count) for raw, count in words]
    tokens = {bytes([b]) for b in range(256)}
    merges = []
    while len(SPECIAL) + len(tokens) < VOCABULARY_SIZE:
        pairs = Counter()
        for symbols, count in words:
            for left, right in zip(symbols, symbols[1:]):
                pairs[(left, right)] += count
        if not pairs:
            break
        (left, right), count = min(pairs.items(), key=lambda item: (-item[1], item[0]))
        if count < MINIMUM_FREQUENCY:
            break
        merges.append((left, right))
        tokens.add(left + right)
        for symbols, _ in words:
            index = 0
            while index < len(symbols) - 1:
                if symbols[index] == left and symbols[index + 1] == right:
                    symbols[index:index + 2] = [left + right]
                index += 1
    return merges


def tokenizer_json(merges):
    vocab = {token: id for id, token in enumerate(SPECIAL)}
    for byte in range(256):
        vocab[BYTE_TO_CHAR[byte]] = len(SPECIAL) + byte
    for left, right in merges:
        vocab.setdefault(byte_level(left + right), len(vocab))
    return {
        "version": "1.0", "truncation": None, "padding": None, "normalizer": None, "post_processor": None,
        "added_tokens": [{"id": id, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for id, token in enumerate(SPECIAL)],
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[byte_level(l), byte_level(r)] for l, r in merges]},
    }


def check(path):
    with open(os.path.join(HERE, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    with open(path, encoding="utf-8") as f:
        written = json.load(f)
    assert written["model"]["merges"] == expected["merges"], "merges differ from the reference trainer"
    tokenizer = Tokenizer.from_file(path)
    for case in expected["cases"]:
        ids = tokenizer.encode(case["text"]).ids
        assert ids == case["ids"], (case["text"], ids, case["ids"])
        assert tokenizer.decode(ids, skip_special_tokens=False) == case["decoded"], case["text"]
    print(f"{path}: {len(expected['merges'])} merges and {len(expected['cases'])} encodings agree "
          f"(tokenizers {tokenizers.__version__})")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    documents = corpus()
    pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    merges = train(pieces(documents, pre_tokenizer))
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json(merges)))
    tokenizer.save(os.path.join(HERE, "tokenizer.json"))
    cases = []
    for text in TEXTS:
        ids = tokenizer.encode(text).ids
        cases.append({"text": text, "ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False)})
    with open(os.path.join(HERE, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump({"vocabulary_size": VOCABULARY_SIZE, "minimum_frequency": MINIMUM_FREQUENCY,
                   "special_tokens": SPECIAL, "documents": documents}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers": tokenizers.__version__,
                   "merges": [[byte_level(l), byte_level(r)] for l, r in merges], "cases": cases},
                  f, ensure_ascii=False, indent=1)
    print(f"{len(documents)} documents, {len(merges)} merges, {len(cases)} cases")


if __name__ == "__main__":
    main()

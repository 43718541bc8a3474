#!/usr/bin/env python3
"""Random-text parity of `grpo tokenize` with `tokenizers`, for every fixture tokenizer present.

    ../venv-tokenizers/bin/python Tests/Fixtures/tokenizers/fuzz_cli.py [--grpo .build/release/grpo] [--seed 7] [--count 20000]

Texts mix the fixture fragments (special tokens, contractions, marks, scripts, emoji) with random code
points from every plane (assigned or not), so Unicode-version differences show up. Exit status 1 on
any mismatch.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402  (for FRAGMENTS)
from tokenizers import Tokenizer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpo", default=".build/release/grpo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    generator = random.Random(args.seed)

    def random_scalar():
        while True:
            r = generator.random()
            cp = generator.randrange(0x80) if r < 0.4 else generator.randrange(0x3000) if r < 0.7 \
                else generator.randrange(0x110000)
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)

    texts = []
    for _ in range(args.count):
        parts = [generator.choice(make_fixtures.FRAGMENTS) if generator.random() < 0.6
                 else random_scalar() * generator.randint(1, 3) for _ in range(generator.randint(0, 30))]
        texts.append("".join(parts))
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "texts.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"text": t}) + "\n" for t in texts)
        for name in sorted(os.listdir(HERE)):
            folder = os.path.join(HERE, name)
            if not os.path.exists(os.path.join(folder, "tokenizer.json")):
                continue
            reference = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
            for flags in ([], ["--add-special-tokens"]):
                output = subprocess.run([args.grpo, "tokenize", "--tokenizer", folder, "--input", path] + flags,
                                        capture_output=True, check=True).stdout.decode("utf-8").split("\n")[:-1]
                expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=bool(flags))]
                bad = [i for i, (line, ids) in enumerate(zip(output, expected)) if json.loads(line)["ids"] != ids]
                bad_count = len(bad) + abs(len(output) - len(expected))
                total += bad_count
                print(f"{name:13} {' '.join(flags) or '(no special tokens)':22} {len(texts)} texts, {bad_count} mismatches"
                      + (f", e.g. {texts[bad[0]][:80]!r}" if bad else ""))
    print("OK" if total == 0 else f"FAILED: {total} mismatches")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())

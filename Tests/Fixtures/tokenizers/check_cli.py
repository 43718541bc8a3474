#!/usr/bin/env python3
"""Checks `grpo tokenize` from the outside against the fixtures' expected ids and decodes.

    python3 Tests/Fixtures/tokenizers/check_cli.py [path/to/grpo]     # default .build/release/grpo

For every fixture tokenizer: encode all fixture texts (with and without --add-special-tokens),
decode their expected ids (with and without --skip-special-tokens, to stdout and to --output).
Needs only the Python standard library. Exit status 1 on any mismatch.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def lines(text):
    return text.split("\n")[:-1]  # str.splitlines() would also split at U+2028 inside strings


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/grpo"
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        texts_file, ids_file, out_file = (os.path.join(tmp, n) for n in ("texts.jsonl", "ids.jsonl", "out.jsonl"))
        for name in sorted(os.listdir(HERE)):
            expected_path = os.path.join(HERE, name, "expected.json")
            if not os.path.exists(expected_path):
                continue
            cases = json.load(open(expected_path, encoding="utf-8"))["cases"]
            tokenizer = os.path.join(HERE, name)  # a model directory
            with open(texts_file, "w", encoding="utf-8") as f:
                f.writelines(json.dumps({"text": c["text"]}) + "\n" for c in cases)
            with open(ids_file, "w", encoding="utf-8") as f:
                f.writelines(json.dumps({"ids": c["ids"]}) + "\n" for c in cases)
            runs = [
                (["--input", texts_file], "ids", "ids"),
                (["--input", texts_file, "--add-special-tokens"], "ids", "ids_special"),
                (["--input", ids_file, "--decode"], "text", "decoded"),
                (["--input", ids_file, "--decode", "--skip-special-tokens"], "text", "decoded_skip"),
                (["--input", ids_file, "--decode", "--output", out_file], "text", "decoded"),
            ]
            for arguments, field, key in runs:
                result = subprocess.run([binary, "tokenize", "--tokenizer", tokenizer] + arguments,
                                        capture_output=True, check=True)
                output = result.stdout.decode("utf-8")
                if "--output" in arguments:
                    output = open(out_file, encoding="utf-8", newline="\n").read()
                got = [json.loads(line)[field] for line in lines(output)]
                bad = sum(g != c[key] for g, c in zip(got, cases)) + abs(len(got) - len(cases))
                failures += bad
                print(f"{name:13} {' '.join(arguments[2:]) or '(encode)':40} {len(cases)} lines, {bad} mismatches")
    print("OK" if failures == 0 else f"FAILED: {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

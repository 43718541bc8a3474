#!/usr/bin/env python3
"""Single-threaded encode throughput of Hugging Face `tokenizers`, the baseline for `grpo bench tokenize`.

    ../venv-tokenizers/bin/python Tests/Fixtures/tokenizers/bench_tokenizers.py \
        [--tokenizer Tests/Fixtures/tokenizers/deepseek/tokenizer.json] [--input ../shared/data/gsm8k_train.jsonl]

Same texts as the Swift benchmark (every "question", "answer" and "text" string), no special tokens.
Prints one JSON line for `encode_batch` with RAYON_NUM_THREADS=1 (no per-call Python overhead in the
loop) and one for a Python loop over `encode`.
"""
import argparse
import json
import os
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402  (after the thread settings)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", default="Tests/Fixtures/tokenizers/deepseek/tokenizer.json")
    parser.add_argument("--input", default="../shared/data/gsm8k_train.jsonl")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    texts = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                texts += [row[k] for k in ("question", "answer", "text") if isinstance(row.get(k), str)]
    size = sum(len(t.encode("utf-8")) for t in texts)
    for mode in ["encode_batch", "encode_loop"]:
        tokenizer = Tokenizer.from_file(args.tokenizer)
        times, cpu_times, tokens = [], [], 0
        for _ in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            if mode == "encode_batch":
                tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False))
            else:
                tokens = sum(len(tokenizer.encode(t, add_special_tokens=False).ids) for t in texts)
            cpu_times.append(time.process_time() - cpu_start)
            times.append(time.perf_counter() - start)
        best, best_cpu = min(times), min(cpu_times)
        print(json.dumps({"bench": "tokenize", "implementation": f"tokenizers {mode}", "tokenizer": args.tokenizer,
                          "input": args.input, "threads": 1, "texts": len(texts), "bytes": size, "tokens": tokens,
                          "cold_seconds": round(times[0], 4), "best_seconds": round(best, 4),
                          "mb_per_s": round(size / best / 1e6, 2), "tokens_per_s": round(tokens / best),
                          "best_cpu_seconds": round(best_cpu, 4), "cpu_mb_per_s": round(size / best_cpu / 1e6, 2)}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Before/after summary of an R1-Zero run, from its metrics.jsonl (standard library only).

    python3 Experiments/r1zero_summary.py runs/r1zero-arithmetic

Prints the held-out evaluations at the first and the last evaluated step (greedy pass@1 = accuracy, pass@k,
maj@k, greedy format reward), the training rewards of the first and last ten steps, and the wall time.
"""
import json
import os
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: r1zero_summary.py RUN_DIR")
    path = os.path.join(sys.argv[1], "metrics.jsonl")
    try:
        records = [json.loads(line) for line in open(path) if line.strip()]
    except OSError as error:
        sys.exit(f"{path}: {error.strerror}")
    evals = [r for r in records if "eval_step" in r]
    steps = [r for r in records if "step" in r]
    if not evals or not steps:
        sys.exit(f"{path}: expected training steps and evaluations, found {len(steps)} steps and {len(evals)} evaluations")

    def percent(value):
        return "—" if value is None else f"{100 * value:5.1f} %"

    def mean(rows, key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return sum(values) / len(values) if values else None

    first, last = evals[0], evals[-1]
    k = last.get("k", 1)
    print(f"held-out evaluation        step {first['eval_step']:>4}   step {last['eval_step']:>4}")
    for label, key in [("accuracy (greedy pass@1)", "pass@1"), (f"pass@{k}", "pass@k"), (f"maj@{k}", "maj@k"),
                       ("format reward (greedy)", "eval_reward/format")]:
        print(f"  {label:<24} {percent(first.get(key)):>9}   {percent(last.get(key)):>9}")
    head, tail = steps[:10], steps[-10:]
    print(f"training rewards           steps 1-{len(head)}   steps {tail[0]['step']}-{tail[-1]['step']}")
    for rule in ("accuracy", "format"):
        print(f"  {rule:<24} {percent(mean(head, 'reward/' + rule)):>9}   {percent(mean(tail, 'reward/' + rule)):>9}")
    seconds = sum(r.get("seconds_step", 0) for r in steps)
    print(f"{len(steps)} steps in {seconds / 60:.1f} min of training (evaluations and checkpoints not included)")


if __name__ == "__main__":
    main()

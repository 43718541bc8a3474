"""Reads a Swift-written SwiftGRPO run file with h5py and checks it against docs/trajectory-format.md (version 1).

    python check_run_file.py RUN.h5 EXPECTED.json

EXPECTED.json (written by the Swift test) holds the metadata and the steps the file must contain. The schema below
is a separate copy of the documented one, on purpose: it checks the Swift writer against the document, not against
itself. The file is opened with swmr=True, as a notebook reading a live run does. Exit status 0 when every check
passes; otherwise each failed check is printed and the status is 1.
"""
import json
import math
import sys

import h5py
import numpy as np

FORMAT = "SwiftGRPO trajectories"
VERSION = 1

# dataset -> (dtype, row width: "1" one value, "rules" one per reward rule, "extra" one per extra step metric)
SCHEMA = {
    "prompts/step": ("int64", "1"), "prompts/prompt_index": ("int64", "1"),
    "prompts/text": ("str", "1"), "prompts/answer": ("str", "1"),
    "completions/step": ("int64", "1"), "completions/prompt_index": ("int64", "1"),
    "completions/group": ("int32", "1"), "completions/prompt_row": ("int64", "1"),
    "completions/text": ("str", "1"), "completions/length": ("int32", "1"),
    "completions/token_offset": ("int64", "1"), "completions/finish_reason": ("str", "1"),
    "completions/rule_rewards": ("float32", "rules"), "completions/reward": ("float32", "1"),
    "completions/advantage": ("float32", "1"), "completions/rule_errors": ("str", "rules"),
    "tokens/token_id": ("int32", "1"), "tokens/old_logprob": ("float32", "1"),
    "tokens/ref_logprob": ("float32", "1"), "tokens/new_logprob": ("float32", "1"),
    "eval_problems/step": ("int64", "1"), "eval_problems/problem_index": ("int64", "1"),
    "eval_problems/correct": ("uint8", "1"), "eval_problems/correct_samples": ("int32", "1"),
    "evals/step": ("int64", "1"), "evals/k": ("int64", "1"), "evals/pass_at_1": ("float64", "1"),
    "evals/pass_at_k": ("float64", "1"), "evals/maj_at_k": ("float64", "1"),
    "evals/first_problem": ("int64", "1"), "evals/problem_count": ("int64", "1"),
    "steps/step": ("int64", "1"), "steps/learning_rate": ("float64", "1"), "steps/loss": ("float64", "1"),
    "steps/kl": ("float64", "1"), "steps/clip_fraction_low": ("float64", "1"),
    "steps/clip_fraction_high": ("float64", "1"), "steps/entropy": ("float64", "1"),
    "steps/grad_norm": ("float64", "1"), "steps/reward_mean": ("float64", "1"), "steps/reward_std": ("float64", "1"),
    "steps/rule_reward_mean": ("float64", "rules"), "steps/rule_reward_std": ("float64", "rules"),
    "steps/zero_variance_groups": ("int64", "1"), "steps/tokens_generated": ("int64", "1"),
    "steps/completion_length_mean": ("float64", "1"), "steps/seconds_sample": ("float64", "1"),
    "steps/seconds_score": ("float64", "1"), "steps/seconds_reference": ("float64", "1"),
    "steps/seconds_policy_update": ("float64", "1"), "steps/seconds_write": ("float64", "1"),
    "steps/wall_time": ("float64", "1"), "steps/first_prompt": ("int64", "1"), "steps/prompt_count": ("int64", "1"),
    "steps/first_completion": ("int64", "1"), "steps/completion_count": ("int64", "1"),
    "steps/first_token": ("int64", "1"), "steps/token_count": ("int64", "1"), "steps/extra": ("float64", "extra"),
}
STRING_ATTRIBUTES = ["format", "swiftgrpo_version", "experiment", "model_path", "model_hash", "tokenizer_path",
                     "tokenizer_hash", "start_time"]
COMPRESSED = [name for name, (dtype, _) in SCHEMA.items()
              if dtype != "str" and name.split("/")[0] in ("tokens", "completions")]

failures = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)
    return condition


def number(value):
    return float("nan") if value == "nan" else float(value)


def same(a, b, tolerance=0.0):
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance


def check_schema(f, expected):
    meta = expected["metadata"]
    rules, extra = meta["reward_rules"], meta["extra_step_metrics"]
    check(f.attrs.get("format") == FORMAT, f"format attribute: {f.attrs.get('format')!r}")
    version = f.attrs.get("format_version")
    check(isinstance(version, (np.integer, int)) and int(version) == VERSION, f"format_version: {version!r}")
    for name in STRING_ATTRIBUTES:
        value = f.attrs.get(name)
        if check(isinstance(value, str), f"attribute {name} should read as str, got {type(value)}"):
            if name != "format":
                check(value == meta[name], f"attribute {name}: {value!r} != {meta[name]!r}")
    seed = f.attrs.get("seed")
    check(seed.dtype == np.uint64 and int(seed) == meta["seed"], f"seed: {seed!r}")
    for name in ("reward_rules", "extra_step_metrics"):
        value = [str(v) for v in f.attrs.get(name, [])]
        check(value == meta[name], f"attribute {name}: {value} != {meta[name]}")
    weights = f.attrs.get("reward_weights")
    check(weights.dtype == np.float64 and list(weights[: len(rules)]) == meta["reward_weights"], f"reward_weights: {weights}")

    present = set()
    f.visititems(lambda name, obj: present.add(name) if isinstance(obj, h5py.Dataset) else None)
    check(present == set(SCHEMA), f"datasets not in the document: {sorted(present - set(SCHEMA))}; "
                                  f"documented but missing: {sorted(set(SCHEMA) - present)}")
    widths = {"rules": len(rules), "extra": len(extra)}
    for name, (dtype, width) in SCHEMA.items():
        if name not in f:
            continue
        ds = f[name]
        if dtype == "str":
            info = h5py.check_string_dtype(ds.dtype)
            check(info is not None and info.encoding == "utf-8" and info.length is None,
                  f"{name}: expected variable-length UTF-8 str, got {ds.dtype}")
        else:
            check(ds.dtype == np.dtype(dtype), f"{name}: dtype {ds.dtype}, documented {dtype}")
        if width == "1":
            check(ds.ndim == 1, f"{name}: rank {ds.ndim}, documented 1")
        else:
            check(ds.ndim == 2 and ds.shape[1] == widths[width], f"{name}: shape {ds.shape}, documented (rows, {widths[width]})")
            key = "rule_names" if width == "rules" else "metric_names"
            names = [str(v) for v in ds.attrs.get(key, [])]
            check(names == (rules if width == "rules" else extra), f"{name}.attrs[{key}] = {names}")
        check(ds.chunks is not None and ds.maxshape[0] is None, f"{name}: must be chunked and extendable")
    for name in COMPRESSED:
        ds = f[name]
        check(ds.compression == "gzip" and ds.shuffle, f"{name}: expected shuffle + deflate, got {ds.compression}, {ds.shuffle}")


def check_contents(f, expected):
    meta = expected["metadata"]
    rules = meta["reward_rules"]
    step_numbers = [record["step"] for record in expected["steps"]]
    steps = f["steps/step"][:]
    complete = steps[steps >= 0]
    check(list(complete) == step_numbers, f"steps/step {list(steps)} != {step_numbers}")
    texts = f["completions/text"].asstr()
    for row, record in enumerate(expected["steps"]):
        if row >= len(steps):
            break
        metrics = record["metrics"]
        for key, value in metrics.items():
            check(same(f["steps/" + key][row], number(value)), f"steps/{key}[{row}] = {f['steps/' + key][row]}, expected {value}")
        check(np.array_equal(f["steps/extra"][row], np.array(record["extra"], dtype=np.float64)), f"steps/extra[{row}]")
        first_p, n_p = f["steps/first_prompt"][row], f["steps/prompt_count"][row]
        first_c, n_c = f["steps/first_completion"][row], f["steps/completion_count"][row]
        first_t, n_t = f["steps/first_token"][row], f["steps/token_count"][row]
        check(n_p == len(record["prompts"]) and n_c == len(record["completions"]), f"step {record['step']}: row counts")
        for i, prompt in enumerate(record["prompts"]):
            r = first_p + i
            check(f["prompts/step"][r] == record["step"], f"prompts/step[{r}]")
            check(f["prompts/prompt_index"][r] == prompt["prompt_index"], f"prompts/prompt_index[{r}]")
            check(f["prompts/text"].asstr()[r] == prompt["text"], f"prompts/text[{r}] = {f['prompts/text'].asstr()[r]!r}")
            check(f["prompts/answer"].asstr()[r] == prompt["answer"], f"prompts/answer[{r}]")
        offset = first_t
        rewards = []
        for i, completion in enumerate(record["completions"]):
            r = first_c + i
            check(f["completions/step"][r] == record["step"], f"completions/step[{r}]")
            check(f["completions/group"][r] == completion["group"], f"completions/group[{r}]")
            check(f["completions/prompt_row"][r] == first_p + completion["group"], f"completions/prompt_row[{r}]")
            check(f["completions/prompt_index"][r] == record["prompts"][completion["group"]]["prompt_index"],
                  f"completions/prompt_index[{r}]")
            check(texts[r] == completion["text"], f"completions/text[{r}] = {texts[r]!r}, expected {completion['text']!r}")
            length = len(completion["token_ids"])
            check(f["completions/length"][r] == length, f"completions/length[{r}]")
            check(f["completions/token_offset"][r] == offset, f"completions/token_offset[{r}]")
            check(f["completions/finish_reason"].asstr()[r] == completion["finish_reason"], f"completions/finish_reason[{r}]")
            check(np.array_equal(f["completions/rule_rewards"][r], np.array(completion["rewards"], dtype=np.float32)),
                  f"completions/rule_rewards[{r}]")
            check(f["completions/reward"][r] == np.float32(completion["reward"]), f"completions/reward[{r}]")
            check(f["completions/advantage"][r] == np.float32(completion["advantage"]), f"completions/advantage[{r}]")
            errors = list(f["completions/rule_errors"].asstr()[r]) if rules else []
            wanted = completion["rule_errors"] or [""] * len(rules)
            check(errors == wanted, f"completions/rule_errors[{r}] = {errors}, expected {wanted}")
            span = slice(offset, offset + length)
            check(np.array_equal(f["tokens/token_id"][span], np.array(completion["token_ids"], dtype=np.int32)),
                  f"tokens/token_id for completion row {r}")
            for column, key in (("old_logprob", "old"), ("ref_logprob", "ref"), ("new_logprob", "new")):
                stored = f["tokens/" + column][span]
                values = completion[key]
                if values:
                    check(np.array_equal(stored, np.array(values, dtype=np.float32)), f"tokens/{column} of row {r}")
                else:
                    check(np.all(np.isnan(stored)), f"tokens/{column} of row {r}: not computed, must be NaN")
            rewards.append(completion["reward"])
            offset += length
        check(offset == first_t + n_t, f"step {record['step']}: token_count")
        if rewards:
            check(same(f["steps/reward_mean"][row], np.mean(np.array(rewards, dtype=np.float64)), 1e-9),
                  f"steps/reward_mean[{row}] is not the mean of completions/reward")
            check(same(f["steps/reward_std"][row], np.std(np.array(rewards, dtype=np.float64)), 1e-9),
                  f"steps/reward_std[{row}] is not the population std of completions/reward")
    evals = expected.get("evals", [])
    check(list(f["evals/step"][:]) == [e["step"] for e in evals], "evals/step")
    for row, evaluation in enumerate(evals):
        for key in ("k", "pass_at_1", "pass_at_k", "maj_at_k"):
            check(same(f["evals/" + key][row], number(evaluation[key])), f"evals/{key}[{row}]")
        first, count = f["evals/first_problem"][row], f["evals/problem_count"][row]
        check(list(f["eval_problems/problem_index"][first:first + count]) == evaluation["problem_index"],
              f"eval_problems/problem_index of eval {row}")
        check(list(f["eval_problems/correct"][first:first + count]) == evaluation["correct"],
              f"eval_problems/correct of eval {row}")


def main():
    path, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path, encoding="utf-8") as handle:
        expected = json.load(handle)
    with h5py.File(path, "r", swmr=True) as f:
        check_schema(f, expected)
        check_contents(f, expected)
    if failures:
        print(f"h5py check of {path}: {len(failures)} of {checks} checks failed")
        for failure in failures:
            print("  - " + failure)
        sys.exit(1)
    print(f"h5py check of {path}: all {checks} checks passed")


if __name__ == "__main__":
    main()

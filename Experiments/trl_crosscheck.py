#!/usr/bin/env python3
"""Cross-check of a SwiftGRPO run against an independent implementation: TRL 1.16's GRPOTrainer.

Trains the same base checkpoint on the same prompts (read from our run file, so the task, template and answers
are exactly ours) with the same rewards (accuracy on the last <answer> block, lenient <think>/<answer> format) and
the same hyperparameters (read from our experiment file), and writes TRL's per-step reward curve next to ours:

    python3 -m venv .venv-trl && .venv-trl/bin/pip install torch transformers trl==1.16.0 accelerate datasets h5py pyyaml
    .venv-trl/bin/python Experiments/trl_crosscheck.py --experiment Experiments/r1zero-arithmetic.yaml \
        --run runs/r1zero-arithmetic --out runs/r1zero-arithmetic-trl

Writes OUT/trl_metrics.jsonl (one line per optimizer step: reward, reward/accuracy, reward/format, kl,
completion length) and OUT/comparison.json (mean rewards over windows of steps, ours and TRL's).
Documentation, not part of `make test`: docs/r1zero.md reports what it gave.
"""
import argparse
import json
import math
import os
import re
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_DISABLED", "true")


def answer_block(text):
    blocks = re.findall(r"<answer>(.*?)</answer>", text, flags=re.DOTALL)
    return blocks[-1].strip() if blocks else None


def accuracy_reward(completions, answer, **kwargs):
    rewards = []
    for text, gold in zip(completions, answer):
        found = answer_block(text)
        try:
            rewards.append(1.0 if found is not None and math.isclose(float(found), float(gold), rel_tol=1e-6) else 0.0)
        except ValueError:
            rewards.append(0.0)
    return rewards


def format_reward(completions, **kwargs):
    pattern = re.compile(r"^\s*<think>.*?</think>\s*<answer>.*?</answer>\s*$", flags=re.DOTALL)
    return [1.0 if pattern.match(text) else 0.0 for text in completions]


def read_prompts(run_file):
    import h5py

    with h5py.File(run_file, "r") as f:
        texts = [t.decode() if isinstance(t, bytes) else t for t in f["prompts/text"][:]]
        answers = [a.decode() if isinstance(a, bytes) else a for a in f["prompts/answer"][:]]
    seen, rows = set(), []
    for text, gold in zip(texts, answers):
        if text not in seen:
            seen.add(text)
            rows.append({"prompt": text, "answer": gold})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--run", required=True, help="our run directory (run.h5, metrics.jsonl)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, help="stop after this many steps (default: the experiment's max_steps)")
    args = parser.parse_args()

    import torch
    import yaml
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(args.threads)
    experiment = yaml.safe_load(open(args.experiment))
    training, generation = experiment.get("training", {}), experiment.get("generation", {})
    model_dir = os.path.join(os.path.dirname(os.path.abspath(args.experiment)), experiment["model"])
    # Not AutoTokenizer: for model_type qwen2, transformers 5 builds Qwen2's own pre-tokenizer and ignores the
    # one in tokenizer.json (our base uses `spaced_words`, docs/pretraining.md), which changes the token ids.
    # Padding with <eos>: generate() pads a sequence that hit a stop string, and TRL's completion mask ends at the
    # first <eos>, not at a stop string; padding with <pad> would train on the padding (huge KL, lengths of 64).
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(model_dir, "tokenizer.json"),
                                        bos_token="<bos>", eos_token="<eos>", pad_token="<eos>")
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)

    # Our stop strings end a completion at "</answer>"; transformers needs the tokenizer passed to generate().
    stops = generation.get("stop", [])
    if stops:
        original = model.generate

        def generate(*a, **kw):
            kw.setdefault("tokenizer", tokenizer)
            return original(*a, **kw)

        model.generate = generate

    config = GRPOConfig(
        output_dir=os.path.join(args.out, "trainer"), report_to="none", save_strategy="no", use_cpu=True, bf16=False,
        gradient_checkpointing=False, logging_steps=1, disable_tqdm=True, seed=experiment.get("seed", 42),
        num_generations=training.get("num_generations", 8),
        per_device_train_batch_size=training.get("per_device_train_batch_size", 8),
        learning_rate=float(training.get("learning_rate", 1e-6)), beta=float(training.get("beta", 0.0)),
        epsilon_high=training.get("epsilon_high"), loss_type=training.get("loss_type", "dapo"),
        lr_scheduler_type=training.get("lr_scheduler_type", "linear"), max_steps=args.steps or training.get("max_steps", 100),
        max_completion_length=generation.get("max_completion_length", 512),
        temperature=float(generation.get("temperature", 1.0)),
        generation_kwargs={"stop_strings": stops} if stops else None,
    )
    rows = read_prompts(os.path.join(args.run, "run.h5"))
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "trl_metrics.jsonl"), "w")

    class Log(TrainerCallback):
        def on_log(self, _args, state, control, logs=None, **kw):
            if logs and "reward" in logs:
                keep = {k: v for k, v in logs.items() if k.startswith("reward") or k in ("kl", "completions/mean_length")}
                log.write(json.dumps({"step": state.global_step, **keep}) + "\n")
                log.flush()

    trainer = GRPOTrainer(model=model, reward_funcs=[accuracy_reward, format_reward], args=config,
                          train_dataset=Dataset.from_list(rows), processing_class=tokenizer, callbacks=[Log()])
    trainer.train()
    log.close()

    ours = [json.loads(l) for l in open(os.path.join(args.run, "metrics.jsonl")) if '"step"' in l][:config.max_steps]
    theirs = [json.loads(l) for l in open(os.path.join(args.out, "trl_metrics.jsonl"))]

    def windows(rows, key, size=10):
        values = [r[key] for r in rows if r.get(key) is not None]
        return [sum(values[i:i + size]) / len(values[i:i + size]) for i in range(0, len(values), size)]

    comparison = {
        "ours": {"reward/accuracy": windows(ours, "reward/accuracy"), "reward/format": windows(ours, "reward/format")},
        "trl": {"reward/accuracy": windows(theirs, "rewards/accuracy_reward/mean"),
                "reward/format": windows(theirs, "rewards/format_reward/mean")},
    }
    json.dump(comparison, open(os.path.join(args.out, "comparison.json"), "w"), indent=1)
    print(json.dumps(comparison))


if __name__ == "__main__":
    sys.exit(main())

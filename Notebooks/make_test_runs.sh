#!/usr/bin/env bash
# Makes the short runs on which `make test` executes the notebooks: OUTDIR/NAME/run.h5 for each run.
#
#     GRPO=.build/release/grpo Notebooks/make_test_runs.sh OUTDIR
#
# Real `grpo train` runs, made in ~15 s on 2 cores: a tiny base model pretrained on the arithmetic corpus, then
#   - kl-two-iterations: β = 0.04 (reference log-probs, KL), num_iterations 2 (old ≠ new log-probs, clipping),
#     evaluations with k = 2;
#   - no-kl: β = 0 (no reference model: KL and reference log-probs are NaN), two reward rules, evaluations.
set -euo pipefail
out=${1:?usage: make_test_runs.sh OUTDIR}
grpo=${GRPO:-.build/release/grpo}
mkdir -p "$out"

cat > "$out/base.yaml" <<'YAML'
seed: 1
threads: 2
model: {hidden_size: 64, intermediate_size: 192, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128}
training: {steps: 60, batch_size: 16, sequence_length: 128, learning_rate: 0.005, warmup_steps: 10, log_every: 20, eval_documents: 50}
corpus: {generator: arithmetic, digits: 1, operators: "+", documents: 3000}
YAML
"$grpo" pretrain --config "$out/base.yaml" --out "$out/base" >/dev/null

common='model: base
threads: 2
task: {name: arithmetic, digits: 1, operators: "+", train_size: 200, eval_size: 12, template: "Question: What is {expression}?\nAnswer:"}
generation: {max_completion_length: 12}
output: {checkpoint_every: 0}'
cat > "$out/kl-two-iterations.yaml" <<YAML
$common
seed: 3
rewards: [{name: accuracy, options: {extraction: boxed_or_fallback}}]
training: {num_generations: 4, per_device_train_batch_size: 16, num_iterations: 2, beta: 0.04, learning_rate: 0.001, max_steps: 24, lr_scheduler_type: constant}
eval: {every: 4, k: 2}
YAML
cat > "$out/no-kl.yaml" <<YAML
$common
seed: 4
rewards:
  - {name: accuracy, options: {extraction: boxed_or_fallback}}
  - {name: repetition, weight: 0.5}
training: {num_generations: 4, per_device_train_batch_size: 16, beta: 0, learning_rate: 0.001, max_steps: 10}
eval: {every: 5}
YAML
for name in kl-two-iterations no-kl; do
  "$grpo" train "$out/$name.yaml" --run-dir "$out/$name" >/dev/null
done

#!/usr/bin/env bash
# Makes the short runs on which `make test` executes the notebooks: OUTDIR/NAME/run.h5 for each run.
#
#     GRPO=.build/release/grpo PYTHON=.venv-test/bin/python Notebooks/make_test_runs.sh OUTDIR
#
# For now the runs are `grpo bench store` files: synthetic but schema-complete (two reward rules, every
# log-prob, no evaluations). A third run is derived from the first with derive_test_run.py (an `accuracy` rule,
# β = 0 so no KL and no reference log-probs, varied lengths, evaluations) so the notebooks' other branches run
# too. Swap in short `grpo train` runs here once it exists.
set -euo pipefail
out=${1:?usage: make_test_runs.sh OUTDIR}
grpo=${GRPO:-.build/release/grpo}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$out/store-20-steps" "$out/store-12-steps" "$out/store-20-beta0-evals"
"$grpo" bench store --steps 20 --completions 16 --tokens 64 --output "$out/store-20-steps/run.h5" >/dev/null
"$grpo" bench store --steps 12 --completions 16 --tokens 64 --output "$out/store-12-steps/run.h5" >/dev/null
"$python" "$here/derive_test_run.py" "$out/store-20-steps/run.h5" "$out/store-20-beta0-evals/run.h5"

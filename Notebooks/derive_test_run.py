"""Test data only: derives a run file from a `grpo bench store` file that exercises what bench files lack.

    python derive_test_run.py SOURCE/run.h5 TARGET/run.h5

The copy has reward rules `accuracy` and `format`, an experiment text with β = 0, ε = 0.2, ε_high = 0.28 (so KL and
reference log-probs are NaN, as a run without a reference model stores them), new log-probs moved away from the
old ones (some tokens outside the clip range), completion lengths between 10 and 64 tokens (each completion keeps
its token offset; the tokens past its length go unused) and four evaluations. `make test` runs the notebooks on it.
"""
import shutil
import sys

import h5py
import numpy as np

source, target = sys.argv[1], sys.argv[2]
shutil.copyfile(source, target)
rng = np.random.default_rng(3)
with h5py.File(target, "r+") as f:
    f.attrs.modify("reward_rules", np.array(["accuracy", "format"], dtype=h5py.string_dtype()))
    f.attrs["experiment"] = ("name: derived test run\ngrpo:\n  beta: 0\n  epsilon: 0.2\n  epsilon_high: 0.28\n"
                             "  scale_rewards: group\n")
    f["steps/kl"][:] = np.nan
    f["tokens/ref_logprob"][:] = np.nan
    old = f["tokens/old_logprob"][:]
    f["tokens/new_logprob"][:] = old + (f["tokens/new_logprob"][:] - old) * 800
    lengths = rng.integers(10, 65, len(f["completions/length"])).astype(np.int32)
    f["completions/length"][:] = lengths
    first, count = f["steps/first_completion"][:], f["steps/completion_count"][:]
    f["steps/completion_length_mean"][:] = [lengths[a:a + n].mean() for a, n in zip(first, count)]
    evaluated = [0, 5, 10, 15]
    for name in f["evals"]:
        f["evals/" + name].resize((len(evaluated),))
    for name in f["eval_problems"]:
        f["eval_problems/" + name].resize((10 * len(evaluated),))
    f["eval_problems/step"][:] = np.repeat(evaluated, 10)
    f["eval_problems/problem_index"][:] = np.tile(np.arange(10), len(evaluated))
    f["evals/k"][:] = 8
    f["evals/pass_at_1"][:] = [0.1, 0.2, 0.2, 0.4]
    f["evals/pass_at_k"][:] = [0.3, 0.5, 0.5, 0.6]
    f["evals/maj_at_k"][:] = np.nan
    f["evals/first_problem"][:] = np.arange(len(evaluated)) * 10
    f["evals/problem_count"][:] = 10
    f["evals/step"][:] = evaluated  # last, as the writer does

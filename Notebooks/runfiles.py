"""Reading SwiftGRPO run files (run.h5, docs/trajectory-format.md) for the notebooks in this folder.

    from runfiles import load_runs
    runs = load_runs()                    # GRPO_RUNS, else every runs/*/run.h5 of the repository
    runs[0].steps                         # one row per complete step: metrics, per-rule rewards, extra metrics
    runs[0].step_record(40)               # one step's prompts, completions and per-token log-probs

Only complete rows are read: the leading rows of `steps` (and `evals`) whose step number is set, strictly
increasing, and whose rows in the other tables exist. A run still writing or one that was killed reads up to its
last complete step. Every file is opened with swmr=True and closed again after each read.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

FORMAT = "SwiftGRPO trajectories"
FORMAT_VERSION = 1
REPO = Path(__file__).resolve().parent.parent

# One-value columns of steps/ that are bookkeeping rather than metrics.
_ROW_COLUMNS = ("first_prompt", "prompt_count", "first_completion", "completion_count", "first_token", "token_count")


def run_paths(spec: str | None = None) -> list[Path]:
    """Run files named by `spec` (default: the GRPO_RUNS environment variable), colon- or comma-separated.

    Each entry is a run file, a run directory holding run.h5, or a directory of run directories (all of its
    */run.h5). Relative entries are looked up in the working directory, then in the repository. Without any
    entry: every runs/*/run.h5 of the repository.
    """
    if spec is None:
        spec = os.environ.get("GRPO_RUNS", "")
    entries = [e.strip() for e in re.split(r"[:,]", spec) if e.strip()]
    if not entries:
        return sorted((REPO / "runs").glob("*/run.h5"))
    paths = []
    for entry in entries:
        path = Path(entry).expanduser()
        if not path.is_absolute() and not path.exists() and (REPO / path).exists():
            path = REPO / path
        if path.is_dir():
            if (path / "run.h5").is_file():
                paths.append(path / "run.h5")
            else:
                found = sorted(path.glob("*/run.h5"))
                if not found:
                    raise FileNotFoundError(f"{entry}: a directory without run.h5 or */run.h5")
                paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise FileNotFoundError(f"{entry}: no such run file or directory (from GRPO_RUNS)")
    return list(dict.fromkeys(p.resolve() for p in paths))


def run_names(paths: list[Path]) -> list[str]:
    """The directory name of each run file; parent directories are added where two names would be the same."""
    names = [p.parent.name for p in paths]
    for depth in range(2, 6):
        duplicates = {n for n in names if names.count(n) > 1}
        if not duplicates:
            break
        names = ["/".join(p.parent.parts[-depth:]) if n in duplicates else n for p, n in zip(paths, names)]
    return names


def _strings(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def experiment_value(text: str, key: str, default=None):
    """The value of `key: value` in the experiment YAML text (any nesting level), as float when it is a number."""
    match = re.search(rf"^\s*{re.escape(key)}\s*:\s*([^#\n]+)", text or "", re.MULTILINE)
    if not match:
        return default
    value = match.group(1).strip().strip("'\"")
    try:
        return float(value)
    except ValueError:
        return value


class Run:
    """One run file: its metadata, its steps table and its evaluations, read once; step records on demand."""

    def __init__(self, path: Path, name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.parent.name
        with self._open() as f:
            if f.attrs.get("format") != FORMAT:
                raise ValueError(f"{self.path}: an HDF5 file, but not a SwiftGRPO run file")
            version = int(f.attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                raise ValueError(f"{self.path}: run file format version {version}, "
                                 f"but these notebooks read version {FORMAT_VERSION}")
            self.attrs = {k: (_strings(v) if isinstance(v, np.ndarray) and v.dtype == object else v)
                          for k, v in f.attrs.items()}
            self.rules = _strings(f.attrs["reward_rules"])
            self.weights = list(np.asarray(f.attrs["reward_weights"], dtype=float)[: len(self.rules)])
            self.extra_metrics = _strings(f.attrs["extra_step_metrics"])
            self.experiment = str(f.attrs.get("experiment", ""))
            self.steps = self._read_steps(f)
            self.evals = self._read_evals(f)

    def _open(self):
        return h5py.File(self.path, "r", swmr=True)

    # -- steps and evaluations -------------------------------------------------------------------------------

    def _read_steps(self, f) -> pd.DataFrame:
        g = f["steps"]
        step = g["step"][:]
        sizes = {"prompt": len(f["prompts/step"]), "completion": len(f["completions/step"]),
                 "token": len(f["tokens/token_id"])}
        complete = (step >= 0) & (step > np.concatenate([[-1], step[:-1]]))
        for table, size in sizes.items():
            complete &= g[f"first_{table}"][: len(step)] + g[f"{table}_count"][: len(step)] <= size
        rows = len(step) if complete.all() else int(np.argmin(complete))   # leading complete rows only
        frame = pd.DataFrame({k: g[k][:rows] for k in g if g[k].ndim == 1})
        for i, rule in enumerate(self.rules):
            frame[f"reward/{rule}"] = g["rule_reward_mean"][:rows, i]
            frame[f"reward_std/{rule}"] = g["rule_reward_std"][:rows, i]
        for i, metric in enumerate(self.extra_metrics):
            frame[f"extra/{metric}"] = g["extra"][:rows, i]
        return frame

    def _read_evals(self, f) -> pd.DataFrame:
        g = f["evals"]
        step = g["step"][:]
        problems = len(f["eval_problems/step"])
        complete = (step >= 0) & (g["first_problem"][: len(step)] + g["problem_count"][: len(step)] <= problems)
        rows = len(step) if complete.all() else int(np.argmin(complete))
        return pd.DataFrame({k: g[k][:rows] for k in g})

    @property
    def step_numbers(self) -> np.ndarray:
        return self.steps["step"].to_numpy()

    @property
    def accuracy_rule(self) -> str | None:
        """The rule called `accuracy` when the run has one, else its first rule (None without rules)."""
        if "accuracy" in self.rules:
            return "accuracy"
        return self.rules[0] if self.rules else None

    def setting(self, key: str, default=None):
        return experiment_value(self.experiment, key, default)

    # -- per-completion and per-step records ------------------------------------------------------------------

    def completions(self, text: bool = False) -> pd.DataFrame:
        """Every completion of the complete steps (without text unless asked): step, group, length, finish
        reason, total reward, advantage and one `reward/RULE` column per rule."""
        if self.steps.empty:
            return pd.DataFrame(columns=["step", "group", "length", "finish_reason", "reward", "advantage"])
        last = self.steps.iloc[-1]
        end = int(last["first_completion"] + last["completion_count"])
        with self._open() as f:
            c = f["completions"]
            frame = pd.DataFrame({
                "step": c["step"][:end], "group": c["group"][:end], "length": c["length"][:end],
                "finish_reason": c["finish_reason"].asstr()[:end], "reward": c["reward"][:end],
                "advantage": c["advantage"][:end]})
            rewards = c["rule_rewards"][:end]
            for i, rule in enumerate(self.rules):
                frame[f"reward/{rule}"] = rewards[:, i]
            if text:
                frame["text"] = c["text"].asstr()[:end]
        return frame

    def step_record(self, step: int | None = None) -> dict:
        """One step in full: `metrics` (its steps row), `prompts`, `completions` (with text, rule errors and
        token offsets relative to the step) and `tokens` (token_id, old/ref/new log-probs, `completion`: the
        row of its completion within the step, `position`: its index within the completion)."""
        if self.steps.empty:
            raise ValueError(f"{self.name}: the run has no complete step yet")
        if step is None:
            step = int(self.steps["step"].iloc[-1])
        match = self.steps.index[self.steps["step"] == step]
        if len(match) == 0:
            raise ValueError(f"{self.name}: no step {step}; its steps are {self.steps['step'].min()}"
                             f"–{self.steps['step'].max()} ({len(self.steps)} of them)")
        row = self.steps.loc[match[0]]
        p = slice(int(row["first_prompt"]), int(row["first_prompt"] + row["prompt_count"]))
        c = slice(int(row["first_completion"]), int(row["first_completion"] + row["completion_count"]))
        t = slice(int(row["first_token"]), int(row["first_token"] + row["token_count"]))
        with self._open() as f:
            prompts = pd.DataFrame({"prompt_index": f["prompts/prompt_index"][p],
                                    "text": f["prompts/text"].asstr()[p],
                                    "answer": f["prompts/answer"].asstr()[p]})
            g = f["completions"]
            completions = pd.DataFrame({
                "group": g["group"][c], "prompt_index": g["prompt_index"][c], "length": g["length"][c],
                "finish_reason": g["finish_reason"].asstr()[c], "reward": g["reward"][c],
                "advantage": g["advantage"][c], "token_offset": g["token_offset"][c] - t.start,
                "text": g["text"].asstr()[c]})
            rewards = g["rule_rewards"][c]
            errors = g["rule_errors"].asstr()[c] if self.rules else np.empty((len(completions), 0), dtype=object)
            for i, rule in enumerate(self.rules):
                completions[f"reward/{rule}"] = rewards[:, i]
            completions["rule_errors"] = ["; ".join(f"{r}: {e}" for r, e in zip(self.rules, es) if e)
                                          for es in errors]
            tokens = pd.DataFrame({"token_id": f["tokens/token_id"][t], "old_logprob": f["tokens/old_logprob"][t],
                                   "ref_logprob": f["tokens/ref_logprob"][t],
                                   "new_logprob": f["tokens/new_logprob"][t]})
        # Each completion's tokens are token_offset ..< token_offset + length (contiguous in files SwiftGRPO writes).
        lengths, offsets = completions["length"].to_numpy(), completions["token_offset"].to_numpy()
        owner = np.repeat(np.arange(len(completions)), lengths)
        position = np.arange(len(owner)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        tokens = tokens.iloc[offsets[owner] + position].reset_index(drop=True)
        tokens["completion"] = owner
        tokens["position"] = position
        return {"step": step, "metrics": row, "prompts": prompts, "completions": completions, "tokens": tokens}


def load_runs(spec: str | None = None) -> list[Run]:
    """Every run named by `spec` / GRPO_RUNS (see run_paths); unreadable files are reported and skipped."""
    paths = run_paths(spec)
    runs = []
    for path, name in zip(paths, run_names(paths)):
        try:
            run = Run(path, name)
            if run.steps.empty:
                print(f"skipped {path}: no complete step yet")
            else:
                runs.append(run)
        except (OSError, ValueError, KeyError) as error:
            print(f"skipped {path}: {error}")
    if not runs:
        where = os.environ.get("GRPO_RUNS") or f"{REPO / 'runs'}/*/run.h5"
        raise FileNotFoundError(f"no readable run file in {where}; set GRPO_RUNS=path/to/run.h5:other/run")
    return runs


def html_table(frame: pd.DataFrame, wide: str | None = None) -> str:
    """An HTML table of `frame` whose cells keep their line breaks (pandas' to_html prints them as '\\n'),
    left-aligned and escaped; the column `wide` gets room for long texts."""
    import html

    style = "white-space: pre-wrap; text-align: left; vertical-align: top; font-size: 0.85em; padding: 2px 6px"
    head = "".join(f"<th style='text-align: left'>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='{style}{'; min-width: 35em' if c == wide else ''}'>{html.escape(str(v))}</td>"
                         for c, v in zip(frame.columns, row)) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

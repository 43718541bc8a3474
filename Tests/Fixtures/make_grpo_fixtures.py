#!/usr/bin/env python3
"""Reference outputs from TRL / PyTorch / transformers for the GRPO trainer tests.

Writes into Tests/Fixtures/grpo/:
  - loss_cases.json: TRL's own `GRPOTrainer._compute_loss` (called unbound on a stand-in `self` that carries only
    the attributes it reads) on random per-token log-probs, for the loss types grpo / bnpo / dr_grpo / dapo, with and
    without KL, one or two iterations, asymmetric and two-sided clipping, gradient accumulation. Expected: the loss,
    d loss / d logps (from `loss.backward()`) and TRL's logged metrics (kl, entropy, clip ratios). Inputs are drawn
    in float32 and written exactly (as the double holding the float32 value); everything is computed in float64.
    Right-padding positions hold 0 (as TRL's fused LM head returns there); a fully masked row (a masked truncated
    completion) keeps non-zero values, which must not matter.
  - adamw.json: `torch.optim.AdamW` (default single-tensor CPU implementation, float32) over 10 steps, two configs.
    All values are float32, written as the shortest decimal that reads back as the same Float.
  - schedules.json: `transformers.get_scheduler` learning rates for 20 optimizer steps, and how TrainingArguments
    turns a warmup ratio into warmup steps.
  - whole_update_<case>.json + .safetensors: one whole teacher-forced GRPO update of Tests/Fixtures/qwen2-tiny in
    float64 (TRL's loss, HF Trainer's weight-decay parameter groups, clip_grad_norm_, AdamW, constant schedule).
    The safetensors hold float32 copies of the float64 truth: `update{u}.gradient.<name>` (accumulated gradient
    before clipping) and `update{u}.weight.<name>` (weights after the optimizer step).
  - versions.json.
Each result is double-checked against an independent plain-formula computation before it is written.

Run (from the repository root, no network needed):
  HF_HUB_OFFLINE=1 /work/venv/bin/python Tests/Fixtures/make_grpo_fixtures.py
  (a venv with torch, transformers, trl (1.16), accelerate, safetensors, numpy)
Versions used for the committed fixtures: see grpo/versions.json.
"""
import copy
import json
import math
import os
import types
from collections import defaultdict
from contextlib import nullcontext

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import transformers
import trl
from safetensors.torch import save_file
from transformers import Qwen2ForCausalLM, Trainer, TrainingArguments, get_scheduler
from trl import GRPOTrainer
from trl.trainer.utils import add_fused_lm_head, nanstd

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "grpo")
POLICY = os.path.join(HERE, "qwen2-tiny")
EOS = 2

torch.set_num_threads(1)  # reproducible reductions


# ----------------------------------------------------------------------------------------------------------------
# A stand-in for the trainer: exactly the attributes `GRPOTrainer._compute_loss` reads.
# ----------------------------------------------------------------------------------------------------------------
class FakeAccelerator:
    num_processes = 1
    sync_gradients = True

    @staticmethod
    def gather(x):
        return x

    @staticmethod
    def gather_for_metrics(x):
        return x

    @staticmethod
    def reduce(x, reduction="sum"):
        assert reduction == "sum"
        return x

    @staticmethod
    def autocast():
        return nullcontext()


def fake_trainer(*, loss_type, beta, epsilon, epsilon_high, delta, use_bias_correction_kl, steps_per_generation,
                 gradient_accumulation_steps, max_completion_length, logps_fn):
    return types.SimpleNamespace(
        loss_type=loss_type,
        beta=beta,
        # as GRPOTrainer.__init__ sets them
        epsilon_low=epsilon,
        epsilon_high=epsilon_high if epsilon_high is not None else epsilon,
        args=types.SimpleNamespace(delta=delta, use_bias_correction_kl=use_bias_correction_kl,
                                   steps_per_generation=steps_per_generation),
        importance_sampling_level="token",
        top_entropy_quantile=1.0,
        off_policy_mask_threshold=None,
        use_vllm=False,
        vllm_importance_sampling_correction=False,
        _entropy_bonus_enabled=False,
        aux_loss_enabled=False,
        max_completion_length=max_completion_length,
        current_gradient_accumulation_steps=gradient_accumulation_steps,
        model=types.SimpleNamespace(training=True),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        accelerator=FakeAccelerator(),
        _get_per_token_logps_and_entropies=logps_fn,
    )


def trl_inputs(mask, advantages, old, ref, num_items_in_batch):
    """The micro-batch dict TRL's _compute_loss receives (prompt ids are never looked at by our logps_fn)."""
    B, T = mask.shape
    inputs = {
        "prompt_ids": torch.zeros(B, 1, dtype=torch.long),
        "prompt_mask": torch.ones(B, 1, dtype=torch.long),
        "completion_ids": torch.zeros(B, T, dtype=torch.long),
        "completion_mask": mask.long(),  # TRL's completion_mask is an integer tensor
        "advantages": advantages,
        # TRL: self.accelerator.gather(loss_mask.sum()).sum(), an integer tensor
        "num_items_in_batch": torch.tensor(int(num_items_in_batch)),
    }
    if old is not None:
        inputs["old_per_token_logps"] = old
    if ref is not None:
        inputs["ref_per_token_logps"] = ref
    return inputs


def metric(fake, key):
    values = fake._metrics["train"].get(key)
    return None if not values else values[-1]


# ----------------------------------------------------------------------------------------------------------------
# Independent plain-formula loss and gradient (for the self-check)
# ----------------------------------------------------------------------------------------------------------------
def hand_loss(c):
    """Plain-Python GRPO loss and d loss / d logps of one loss case (dict as written to JSON)."""
    mask, lp, adv = c["mask"], c["logps"], c["advantages"]
    old = c["old_logps"] or lp
    ref = c["ref_logps"]
    B, T = len(mask), len(mask[0])
    el, eh = c["epsilon"], c["epsilon_high"] if c["epsilon_high"] is not None else c["epsilon"]
    beta, delta = c["beta"], c["delta"]
    ptl = [[0.0] * T for _ in range(B)]
    dptl = [[0.0] * T for _ in range(B)]  # d per_token_loss / d logp
    kl_sum = ent_sum = low = high = 0.0
    for i in range(B):
        A = adv[i]
        for t in range(T):
            r = math.exp(lp[i][t] - old[i][t])  # the ratio's gradient is r, even where r == 1
            c1, dc1 = r, r
            if delta is not None and r > delta:
                c1, dc1 = delta, 0.0
            if r < 1 - el:
                c2, dc2 = 1 - el, 0.0
            elif r > 1 + eh:
                c2, dc2 = 1 + eh, 0.0
            else:
                c2, dc2 = r, r
            if c1 * A < c2 * A:
                ptl[i][t], dptl[i][t] = -c1 * A, -dc1 * A
            elif c1 * A > c2 * A:
                ptl[i][t], dptl[i][t] = -c2 * A, -dc2 * A
            else:  # torch.min splits the gradient of a tie in half
                ptl[i][t], dptl[i][t] = -c1 * A, -0.5 * (dc1 + dc2) * A
            if beta != 0:
                x = ref[i][t] - lp[i][t]
                k, dk = math.exp(x) - x - 1, -math.exp(x) + 1
                if c["use_bias_correction_kl"]:
                    k, dk = k * r, dk * r + k * r
                ptl[i][t] += beta * k
                dptl[i][t] += beta * dk
                kl_sum += k * mask[i][t]
            ent_sum += c["entropies"][i][t] * mask[i][t]
            low += mask[i][t] * (c1 < 1 - el and A < 0)
            high += mask[i][t] * (c1 > 1 + eh and A > 0)
    ga, lt = c["gradient_accumulation_steps"], c["loss_type"]
    n_tok = sum(map(sum, mask))
    w = [[0.0] * T for _ in range(B)]  # d loss / d per_token_loss
    for i in range(B):
        for t in range(T):
            if lt == "grpo":
                w[i][t] = mask[i][t] / max(sum(mask[i]), 1) / B / ga
            elif lt == "bnpo":
                w[i][t] = mask[i][t] / max(n_tok, 1) / ga
            elif lt == "dr_grpo":
                w[i][t] = mask[i][t] / (B * c["max_completion_length"]) / ga
            elif lt == "dapo":
                w[i][t] = mask[i][t] / (max(c["num_items_in_batch"], 1) * ga / c["steps_per_generation"])
    loss = sum(w[i][t] * ptl[i][t] for i in range(B) for t in range(T))
    grad = [[w[i][t] * dptl[i][t] for t in range(T)] for i in range(B)]
    d = max(n_tok, 1)
    return loss, grad, {"kl": kl_sum / d if beta != 0 else None, "entropy": ent_sum / d,
                        "clip_ratio_low": low / d, "clip_ratio_high": high / d,
                        "clip_ratio_region": (low + high) / d}


# ----------------------------------------------------------------------------------------------------------------
# 1. loss cases
# ----------------------------------------------------------------------------------------------------------------
def loss_case_specs():
    specs = []
    # the grid: all four loss types x beta x num_iterations; epsilon_high alternates between null and 0.28
    for lt in ("grpo", "bnpo", "dr_grpo", "dapo"):
        for beta in (0.0, 0.04):
            for nit in (1, 2):
                specs.append(dict(loss_type=lt, beta=beta, num_iterations=nit,
                                  epsilon_high=0.28 if (lt == "dapo") != (beta == 0.0) else None))
    for lt in ("grpo", "bnpo", "dr_grpo", "dapo"):
        # the other epsilon_high of the grid with num_iterations 2
        specs.append(dict(loss_type=lt, beta=0.04, num_iterations=2,
                          epsilon_high=None if (lt == "dapo") else 0.28, tag="eps-high-swapped"))
        # gradient accumulation: a micro-batch that is half of the generation batch
        for nit, beta in ((2, 0.04), (1, 0.0)):
            specs.append(dict(loss_type=lt, beta=beta, num_iterations=nit, epsilon_high=0.28,
                              gradient_accumulation_steps=2, steps_per_generation=2, tag="ga2"))
        # KL without the importance-sampling correction
        specs.append(dict(loss_type=lt, beta=0.04, num_iterations=2, epsilon_high=0.28,
                          use_bias_correction_kl=False, tag="no-bias-correction"))
        specs.append(dict(loss_type=lt, beta=0.04, num_iterations=1, epsilon_high=None,
                          use_bias_correction_kl=False, tag="no-bias-correction"))
    # two-sided clipping (INTELLECT-2 delta)
    for lt in ("grpo", "dapo"):
        specs.append(dict(loss_type=lt, beta=0.0, num_iterations=2, epsilon_high=0.28, delta=1.5, tag="delta"))
        specs.append(dict(loss_type=lt, beta=0.04, num_iterations=2, epsilon_high=None, delta=1.3, tag="delta"))
    # a larger epsilon and beta, and a micro-batch that is entirely masked
    specs.append(dict(loss_type="bnpo", beta=0.1, num_iterations=2, epsilon=0.3, epsilon_high=0.4, tag="wide"))
    specs.append(dict(loss_type="dapo", beta=0.04, num_iterations=2, epsilon_high=0.28, all_masked=True,
                      gradient_accumulation_steps=2, steps_per_generation=2, tag="all-masked"))
    specs.append(dict(loss_type="grpo", beta=0.04, num_iterations=2, epsilon_high=0.28, all_masked=True,
                      tag="all-masked"))
    return specs


def f32(t):
    """float32 draw -> float64 tensor holding exactly the same values."""
    return t.float().double()


def make_loss_case(index, spec, attempt=0):
    g = torch.Generator().manual_seed(1000 + index + 100 * attempt)
    B = int(torch.randint(4, 7, (1,), generator=g))
    T = int(torch.randint(5, 10, (1,), generator=g))
    nit = spec["num_iterations"]
    beta = spec["beta"]
    ga = spec.get("gradient_accumulation_steps", 1)
    spg = spec.get("steps_per_generation", ga)
    max_completion_length = T + int(torch.randint(0, 4, (1,), generator=g))  # T <= max_completion_length

    # ragged right-padded mask: lengths 1..T, always one full row and one length-1 row, maybe a fully masked row
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0], lengths[1] = T, 1
    lengths = lengths[torch.randperm(B, generator=g)]
    mask = (torch.arange(T)[None, :] < lengths[:, None]).double()
    fully_masked = None
    if spec.get("all_masked"):
        mask.zero_()
    elif index % 3 != 2:
        fully_masked = int(torch.randint(0, B, (1,), generator=g))
        mask[fully_masked] = 0

    advantages = torch.randn(B, generator=g)
    advantages[int(torch.randint(0, B, (1,), generator=g))] = 0.0
    logps = -(0.05 + 4 * torch.rand(B, T, generator=g))
    entropies = 3 * torch.rand(B, T, generator=g)
    old = (logps + (1.2 * torch.rand(B, T, generator=g) - 0.6)).float() if nit > 1 else None
    ref = (logps + 0.3 * torch.randn(B, T, generator=g)).float() if beta != 0 else None
    # padding positions hold 0, as TRL's fused LM head returns there; a fully masked (truncated) row keeps values
    pad = (torch.arange(T)[None, :] >= lengths[:, None])
    for x in (logps, entropies, old, ref):
        if x is not None:
            x.masked_fill_(pad, 0.0)

    # dapo's num_items_in_batch counts the tokens of the whole generation batch: here the other half (of a
    # generation batch of ga micro-batches) has a different token count
    num_items = float(mask.sum())
    if ga > 1:
        num_items += float(mask.sum()) + 1 + int(torch.randint(1, 8, (1,), generator=g))

    logps_leaf = f32(logps).requires_grad_(True)
    entropies64 = f32(entropies)

    def logps_fn(*args, **kwargs):
        return logps_leaf, entropies64, None

    case = {
        "name": f"{index:02d}-{spec['loss_type']}-beta{spec['beta']}-it{nit}"
                + (f"-{spec['tag']}" if "tag" in spec else ""),
        "loss_type": spec["loss_type"],
        "beta": beta,
        "epsilon": spec.get("epsilon", 0.2),
        "epsilon_high": spec["epsilon_high"],
        "delta": spec.get("delta"),
        "use_bias_correction_kl": spec.get("use_bias_correction_kl", True),
        "num_iterations": nit,
        "max_completion_length": max_completion_length,
        "gradient_accumulation_steps": ga,
        "steps_per_generation": spg,
        "num_items_in_batch": num_items,
    }
    fake = fake_trainer(loss_type=case["loss_type"], beta=beta, epsilon=case["epsilon"],
                        epsilon_high=case["epsilon_high"], delta=case["delta"],
                        use_bias_correction_kl=case["use_bias_correction_kl"], steps_per_generation=spg,
                        gradient_accumulation_steps=ga, max_completion_length=max_completion_length,
                        logps_fn=logps_fn)
    inputs = trl_inputs(mask, f32(advantages), None if old is None else f32(old),
                        None if ref is None else f32(ref), num_items)
    loss = GRPOTrainer._compute_loss(fake, None, inputs)
    loss.backward()
    assert logps_leaf.grad is not None

    case.update({
        "mask": mask.long().tolist(),
        "logps": f32(logps).tolist(),
        "old_logps": None if old is None else f32(old).tolist(),
        "ref_logps": None if ref is None else f32(ref).tolist(),
        "entropies": entropies64.tolist(),
        "advantages": f32(advantages).tolist(),
        "expected": {
            "loss": loss.item(),
            "grad_logps": logps_leaf.grad.tolist(),
            "kl": metric(fake, "kl"),
            "entropy": metric(fake, "entropy"),
            "clip_ratio_low": metric(fake, "clip_ratio/low_mean"),
            "clip_ratio_high": metric(fake, "clip_ratio/high_mean"),
            "clip_ratio_region": metric(fake, "clip_ratio/region_mean"),
        },
    })
    assert (metric(fake, "kl") is None) == (beta == 0)
    return case


def check_loss_case(c):
    loss, grad, metrics = hand_loss(c)
    e = c["expected"]
    scale = max(1.0, abs(e["loss"]))
    assert abs(loss - e["loss"]) <= 1e-13 * scale, (c["name"], loss, e["loss"])
    gmax = max(1e-300, max(abs(v) for row in e["grad_logps"] for v in row))
    err = max(abs(a - b) for ra, rb in zip(grad, e["grad_logps"]) for a, b in zip(ra, rb))
    assert err <= 1e-13 * max(gmax, 1e-3), (c["name"], err)
    for k, v in metrics.items():
        if v is None:
            assert e[k] is None, (c["name"], k)
        else:
            # TRL computes the clip ratios in float32 (is_clipped.float() * mask / mask.sum().float())
            tol = 1e-7 * abs(v) if k.startswith("clip_ratio") else 1e-13
            assert abs(v - e[k]) <= tol, (c["name"], k, v, e[k])
    return err


def delta_bites(c):
    """Tokens where two-sided clipping changes the loss: negative advantage and ratio above delta."""
    return sum(1 for i, row in enumerate(c["mask"]) for t, m in enumerate(row)
               if m and c["advantages"][i] < 0 and math.exp(c["logps"][i][t] - c["old_logps"][i][t]) > c["delta"])


def make_loss_cases():
    cases = []
    for index, spec in enumerate(loss_case_specs()):
        case = make_loss_case(index, spec)
        attempt = 0
        while spec.get("delta") is not None and delta_bites(case) < 2:  # redraw until delta matters
            attempt += 1
            case = make_loss_case(index, spec, attempt)
        check_loss_case(case)
        cases.append(case)
    # coverage: clipping in both directions with both advantage signs must actually happen
    low = sum(1 for c in cases if c["expected"]["clip_ratio_low"] > 0)
    high = sum(1 for c in cases if c["expected"]["clip_ratio_high"] > 0)
    assert low >= 10 and high >= 10, (low, high)
    # the clamped (zero-gradient) branch must occur for both signs too
    both = 0
    for c in cases:
        if c["old_logps"] is None:
            continue
        el = c["epsilon"]
        eh = c["epsilon_high"] if c["epsilon_high"] is not None else el
        for i, row in enumerate(c["mask"]):
            for t, m in enumerate(row):
                r = math.exp(c["logps"][i][t] - c["old_logps"][i][t])
                A = c["advantages"][i]
                if m and ((A > 0 and r < 1 - el) or (A < 0 and r > 1 + eh)):
                    both += 1  # unclipped side of the min: gradient still flows
    assert both > 10
    return {"trl_version": trl.__version__, "torch_version": torch.__version__, "cases": cases}


# ----------------------------------------------------------------------------------------------------------------
# 2. AdamW
# ----------------------------------------------------------------------------------------------------------------
def f32_json(t):
    """float32 values as the shortest decimal that reads back as the same Float (also via Double -> Float)."""
    out = []
    for x in t.reshape(-1).tolist():
        x32 = np.float32(x)
        v = float(str(x32))
        assert np.float32(v) == x32 and np.float32(float(repr(v))) == x32
        out.append(v)
    return out


def hand_adamw(initial, grads, lrs, betas, eps, wd):
    """Plain float64 AdamW (Loshchilov & Hutter, as torch.optim.AdamW) for the self-check."""
    p = initial.astype(np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    b1, b2 = betas
    out = []
    for step, (g, lr) in enumerate(zip(grads, lrs), start=1):
        g = g.astype(np.float64)
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) / math.sqrt(1 - b2 ** step) + eps
        p = p - lr / (1 - b1 ** step) * m / denom
        out.append(p.copy())
    return out


def make_adamw():
    n, steps = 259, 10
    configs = [
        dict(name="default-wd", betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, lrs=[1e-3] * steps),
        dict(name="warmup-decay-no-wd", betas=(0.8, 0.95), eps=1e-6, weight_decay=0.0,
             lrs=[0.0, 5e-4, 1e-3, 1e-3, 8e-4, 6e-4, 4e-4, 2e-4, 1e-4, 5e-5]),
    ]
    out = []
    for k, cfg in enumerate(configs):
        g = torch.Generator().manual_seed(2000 + k)
        initial = torch.randn(n, generator=g) * 0.5
        param = torch.nn.Parameter(initial.clone())
        opt = torch.optim.AdamW([param], lr=cfg["lrs"][0], betas=cfg["betas"], eps=cfg["eps"],
                                weight_decay=cfg["weight_decay"])
        grads, expected = [], []
        for step in range(steps):
            # gradients of varied magnitude, some tiny, one exactly zero
            grad = torch.randn(n, generator=g) * torch.exp(2 * torch.randn(n, generator=g)) * 1e-2
            grad[7] = 0.0
            opt.param_groups[0]["lr"] = cfg["lrs"][step]
            param.grad = grad.clone()
            opt.step()
            grads.append(grad.clone())
            expected.append(param.detach().clone())
        assert param.dtype == torch.float32
        # self-check against a plain float64 AdamW: agreement to float32 rounding
        ref = hand_adamw(initial.numpy(), [x.numpy() for x in grads], cfg["lrs"], cfg["betas"], cfg["eps"],
                         cfg["weight_decay"])
        err = max(float(np.abs(r - e.double().numpy()).max()) for r, e in zip(ref, expected))
        assert err < 2e-6, err
        # how far the Trainer's default (fused) AdamW is from the default single-tensor one
        fparam = torch.nn.Parameter(initial.clone())
        fopt = torch.optim.AdamW([fparam], lr=cfg["lrs"][0], betas=cfg["betas"], eps=cfg["eps"],
                                 weight_decay=cfg["weight_decay"], fused=True)
        for step in range(steps):
            fopt.param_groups[0]["lr"] = cfg["lrs"][step]
            fparam.grad = grads[step].clone()
            fopt.step()
        fused_diff = float((fparam.detach() - expected[-1]).abs().max())
        print(f"adamw {cfg['name']}: max |torch - float64 formula| = {err:.3g}, "
              f"max |fused - default| after 10 steps = {fused_diff:.3g}")
        out.append({
            "name": cfg["name"], "betas": list(cfg["betas"]), "eps": cfg["eps"],
            "weight_decay": cfg["weight_decay"], "lrs": cfg["lrs"],
            "initial": f32_json(initial), "gradients": [f32_json(x) for x in grads],
            "expected": [f32_json(x) for x in expected],
        })
    return {"implementation": "torch.optim.AdamW, CPU float32, default (single-tensor, foreach=False), amsgrad=False",
            "configs": out}


# ----------------------------------------------------------------------------------------------------------------
# 3. schedules
# ----------------------------------------------------------------------------------------------------------------
def make_schedules():
    cases = []
    for name in ("constant", "constant_with_warmup", "linear", "cosine"):
        for warmup in (0, 5):
            param = torch.nn.Parameter(torch.zeros(1))
            opt = torch.optim.AdamW([param], lr=1e-3)
            sched = get_scheduler(name, opt, num_warmup_steps=warmup, num_training_steps=20)
            lrs = []
            for _ in range(20):
                lrs.append(opt.param_groups[0]["lr"])
                opt.step()  # no gradient: a no-op, keeps the scheduler from warning
                sched.step()
            cases.append({"name": name, "num_warmup_steps": warmup, "num_training_steps": 20, "base_lr": 1e-3,
                          "lrs": lrs})
    # transformers 5.x has no `warmup_ratio` argument any more: `warmup_steps` takes a float; < 1 is a ratio
    try:
        TrainingArguments(output_dir="/tmp/grpo-fixture-args", warmup_ratio=0.1, report_to="none")
        has_ratio = True
    except TypeError:
        has_ratio = False
    assert not has_ratio
    examples = []
    for ratio, max_steps in ((0.1, 23), (0.25, 10), (0.05, 7), (1.0, 23), (5, 23)):
        args = TrainingArguments(output_dir="/tmp/grpo-fixture-args", warmup_steps=ratio, max_steps=max_steps,
                                 report_to="none", use_cpu=True)
        examples.append({"warmup_ratio" if ratio < 1 else "warmup_steps_argument": ratio, "max_steps": max_steps,
                         "warmup_steps": args.get_warmup_steps(max_steps)})
    note = ("transformers 5.24 TrainingArguments has no warmup_ratio argument (TypeError); warmup_steps is a float: "
            "values >= 1 are int(warmup_steps) steps, values in [0, 1) are a ratio, "
            "math.ceil(num_training_steps * warmup_steps) (TrainingArguments.get_warmup_steps)")
    return {"cases": cases, "warmup_ratio_examples": examples, "note": note}


# ----------------------------------------------------------------------------------------------------------------
# 4. whole update
# ----------------------------------------------------------------------------------------------------------------
PROMPTS = [[5, 17, 42, 8], [33, 71, 9, 90, 12, 64, 27]]
COMPLETIONS = [  # (prompt index, ids); completion 1 is truncated (8 tokens, no EOS)
    (0, [44, 13, EOS]),
    (0, [7, 88, 19, 56, 3, 61, 25, 96]),
    (0, [EOS]),
    (1, [15, 80, 36, 50, EOS]),
    (1, [29, EOS]),
    (1, [4, 67, 11, 93, 38, 72, 20, EOS]),
]
REWARDS = [1.0, 0.0, 0.5, 0.2, 0.9, 0.4]

CASES = {
    "dapo": dict(loss_type="dapo", beta=0.04, epsilon=0.2, epsilon_high=0.28, delta=None, num_iterations=2,
                 per_device_train_batch_size=3, gradient_accumulation_steps=2, steps_per_generation=2,
                 temperature=0.7, learning_rate=1e-3, lr_scheduler_type="constant", adam_beta1=0.9, adam_beta2=0.99,
                 adam_epsilon=1e-8, weight_decay=0.1, max_grad_norm=0.5, mask_truncated_completions=False,
                 use_bias_correction_kl=True, importance_sampling_level="token", max_completion_length=8,
                 num_generations=3),
    "grpo": dict(loss_type="grpo", beta=0.0, epsilon=0.2, epsilon_high=None, delta=None, num_iterations=1,
                 per_device_train_batch_size=6, gradient_accumulation_steps=1, steps_per_generation=1,
                 temperature=1.0, learning_rate=1e-3, lr_scheduler_type="constant", adam_beta1=0.9,
                 adam_beta2=0.999, adam_epsilon=1e-8, weight_decay=0.0, max_grad_norm=1.0,
                 mask_truncated_completions=True, use_bias_correction_kl=True, importance_sampling_level="token",
                 max_completion_length=8, num_generations=3),
}


def load_policy():
    model = Qwen2ForCausalLM.from_pretrained(POLICY, attn_implementation="eager").double()
    model.train()
    return model


def sequence_logps(model, prompt, completion, temperature):
    """Unpadded, batch of 1, positions 0..n-1: logits / T -> log_softmax -> gather; entropy of the same."""
    ids = torch.tensor([prompt + completion])
    logits = model(input_ids=ids).logits[0]
    assert logits.dtype == torch.float64
    scored = logits[len(prompt) - 1:-1] / temperature  # the logit at position t predicts token t + 1
    logsm = torch.log_softmax(scored, dim=-1)
    lp = logsm.gather(-1, torch.tensor(completion)[:, None])[:, 0]
    ent = -(logsm.exp() * logsm).sum(-1)
    return lp, ent.detach()


def right_pad(rows, T):
    out = torch.zeros(len(rows), T, dtype=torch.float64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def trl_logps_check(model, temperature):
    """TRL's own per-token log-probs (fused LM head, left-padded prompts, its own position handling) vs ours.

    Only a sanity check: the fixture's log-probs are the plain float64 log_softmax of `sequence_logps`."""
    patched = copy.deepcopy(model)
    add_fused_lm_head(patched, temperature=temperature, outputs=("log_probs", "entropy"))
    fake = types.SimpleNamespace(accelerator=FakeAccelerator())
    get_logps = GRPOTrainer._get_per_token_logps_and_entropies.__wrapped__  # without the profiling decorator
    per_seq, batched = 0.0, 0.0
    with torch.no_grad():
        ours = [sequence_logps(model, PROMPTS[p], c, temperature) for p, c in COMPLETIONS]
        # one sequence at a time: must agree to rounding
        for (p, c), (lp, ent) in zip(COMPLETIONS, ours):
            ids = torch.tensor([PROMPTS[p] + c])
            tlp, tent, _ = get_logps(
                fake, patched, ids, torch.ones_like(ids), len(c), compute_entropy=True)
            per_seq = max(per_seq, float((tlp[0] - lp).abs().max()), float((tent[0] - ent).abs().max()))
        # the way TRL batches it: left-padded prompts (positions then do not start at 0 for padded rows)
        P = max(len(p) for p in PROMPTS)
        T = max(len(c) for _, c in COMPLETIONS)
        ids, att = [], []
        for p, c in COMPLETIONS:
            pr = PROMPTS[p]
            ids.append([0] * (P - len(pr)) + pr + c + [0] * (T - len(c)))
            att.append([0] * (P - len(pr)) + [1] * (len(pr) + len(c)) + [0] * (T - len(c)))
        tlp, tent, _ = get_logps(
            fake, patched, torch.tensor(ids), torch.tensor(att), T, compute_entropy=True)
        for i, ((p, c), (lp, ent)) in enumerate(zip(COMPLETIONS, ours)):
            batched = max(batched, float((tlp[i, :len(c)] - lp).abs().max()))
    # TRL's chunked kernel keeps its log-sum-exp statistics in float32 even for a float64 model, so it agrees with
    # the float64 truth only to float32 rounding
    assert per_seq < 1e-5 and batched < 1e-5, (per_seq, batched)
    return per_seq, batched


def make_whole_update(name, cfg):
    torch.manual_seed(0)
    model = load_policy()
    ref_model = copy.deepcopy(model).eval() if cfg["beta"] != 0 else None
    temperature = cfg["temperature"]
    per_seq, batched = trl_logps_check(model, temperature)
    print(f"whole_update {name}: TRL fused-head log-probs vs ours: one sequence at a time {per_seq:.2g}, "
          f"TRL-style left-padded batch {batched:.2g}")

    # advantages exactly as TRL computes them (float32): (r - group mean) / (group std + 1e-4)
    G = cfg["num_generations"]
    rewards = torch.tensor(REWARDS, dtype=torch.float32)
    mean = rewards.view(-1, G).mean(dim=1).repeat_interleave(G)
    std = nanstd(rewards.view(-1, G), dim=1).repeat_interleave(G)
    advantages = (rewards - mean) / (std + 1e-4)
    assert (advantages == 0).sum() == 1

    truncated = [c[-1] != EOS for _, c in COMPLETIONS]
    assert truncated == [False, True, False, False, False, False]
    masks = [torch.ones(len(c), dtype=torch.float64) * (0.0 if (t and cfg["mask_truncated_completions"]) else 1.0)
             for (_, c), t in zip(COMPLETIONS, truncated)]
    num_items_in_batch = float(sum(m.sum() for m in masks))

    with torch.no_grad():
        old = ([sequence_logps(model, PROMPTS[p], c, temperature)[0] for p, c in COMPLETIONS]
               if cfg["num_iterations"] > 1 else None)
        ref = ([sequence_logps(ref_model, PROMPTS[p], c, temperature)[0] for p, c in COMPLETIONS]
               if cfg["beta"] != 0 else None)

    decayed = Trainer.get_decay_parameter_names(None, model)
    names = [n for n, _ in model.named_parameters()]
    opt = torch.optim.AdamW(
        [{"params": [p for n, p in model.named_parameters() if n in decayed], "weight_decay": cfg["weight_decay"]},
         {"params": [p for n, p in model.named_parameters() if n not in decayed], "weight_decay": 0.0}],
        lr=cfg["learning_rate"], betas=(cfg["adam_beta1"], cfg["adam_beta2"]), eps=cfg["adam_epsilon"])
    sched = get_scheduler(cfg["lr_scheduler_type"], opt, num_warmup_steps=0, num_training_steps=100)

    mb = cfg["per_device_train_batch_size"]
    ga = cfg["gradient_accumulation_steps"]
    assert cfg["steps_per_generation"] == ga and mb * ga == len(COMPLETIONS)
    micro_batches = [list(range(k * mb, (k + 1) * mb)) for k in range(ga)]  # in order, no shuffling

    tensors, updates, window = {}, [], []
    opt.zero_grad()
    step_count = 0
    for iteration in range(cfg["num_iterations"]):
        for idx in micro_batches:
            T = max(len(COMPLETIONS[i][1]) for i in idx)

            def logps_fn(*args, _idx=idx, _T=T, **kwargs):
                out = [sequence_logps(model, PROMPTS[COMPLETIONS[i][0]], COMPLETIONS[i][1], temperature)
                       for i in _idx]
                return right_pad([o[0] for o in out], _T), right_pad([o[1] for o in out], _T), None

            fake = fake_trainer(loss_type=cfg["loss_type"], beta=cfg["beta"], epsilon=cfg["epsilon"],
                                epsilon_high=cfg["epsilon_high"], delta=cfg["delta"],
                                use_bias_correction_kl=cfg["use_bias_correction_kl"],
                                steps_per_generation=cfg["steps_per_generation"], gradient_accumulation_steps=ga,
                                max_completion_length=cfg["max_completion_length"], logps_fn=logps_fn)
            inputs = trl_inputs(right_pad([masks[i] for i in idx], T), advantages[idx].double(),
                                None if old is None else right_pad([old[i] for i in idx], T),
                                None if ref is None else right_pad([ref[i] for i in idx], T), num_items_in_batch)
            loss = GRPOTrainer._compute_loss(fake, model, inputs)
            loss.backward()
            window.append({"loss": loss.item(), "kl": metric(fake, "kl"), "entropy": metric(fake, "entropy"),
                           "clip_ratio_low": metric(fake, "clip_ratio/low_mean"),
                           "clip_ratio_high": metric(fake, "clip_ratio/high_mean"),
                           "clip_ratio_region": metric(fake, "clip_ratio/region_mean")})
            step_count += 1
            if step_count % ga == 0:
                u = len(updates)
                grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
                lr = opt.param_groups[0]["lr"]
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"])
                # self-check: plain float64 norm and clipping rule (coefficient max_norm / (norm + 1e-6), at most 1)
                hand_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
                assert abs(hand_norm - grad_norm.item()) < 1e-12 * hand_norm
                coef = min(1.0, cfg["max_grad_norm"] / (hand_norm + 1e-6))
                for n, p in model.named_parameters():
                    assert torch.allclose(p.grad, grads[n] * coef, rtol=1e-14, atol=0)
                before = {n: p.detach().clone() for n, p in model.named_parameters()}
                state_before = {n: copy.deepcopy(opt.state.get(p, {})) for n, p in model.named_parameters()}
                opt.step()
                sched.step()
                opt.zero_grad()
                # self-check one AdamW step by hand on every tensor
                b1, b2, eps = cfg["adam_beta1"], cfg["adam_beta2"], cfg["adam_epsilon"]
                for n, p in model.named_parameters():
                    wd = cfg["weight_decay"] if n in decayed else 0.0
                    st = state_before[n]
                    m = st.get("exp_avg", torch.zeros_like(p))
                    v = st.get("exp_avg_sq", torch.zeros_like(p))
                    step = u + 1
                    g = grads[n] * coef
                    m = b1 * m + (1 - b1) * g
                    v = b2 * v + (1 - b2) * g * g
                    expect = before[n] * (1 - lr * wd) - lr / (1 - b1 ** step) * m / (
                        v.sqrt() / math.sqrt(1 - b2 ** step) + eps)
                    assert torch.allclose(p.detach(), expect, rtol=1e-14, atol=1e-15), n
                for n, p in model.named_parameters():
                    tensors[f"update{u}.gradient.{n}"] = grads[n].float().contiguous()
                    tensors[f"update{u}.weight.{n}"] = p.detach().float().contiguous()
                flat = torch.cat([g.reshape(-1) for g in grads.values()])
                small = int((flat.abs() < 1e-6).sum())
                zero = int((flat == 0).sum())
                tiny_nonzero = int(((flat.abs() < 1e-6) & (flat != 0)).sum())
                print(f"whole_update {name} update {u}: grad_norm {grad_norm.item():.6g}, clip coef {coef:.6g}, "
                      f"{flat.numel()} gradient elements, |g| < 1e-6: {small} ({zero} exactly 0, "
                      f"{tiny_nonzero} non-zero), |g| < 1e-4: {int((flat.abs() < 1e-4).sum())}")

                def mean_of(key):
                    vals = [w[key] for w in window]
                    return None if vals[0] is None else sum(vals) / len(vals)

                updates.append({
                    "lr": lr,
                    "micro_batch_losses": [w["loss"] for w in window],
                    "loss": sum(w["loss"] for w in window),
                    "grad_norm": grad_norm.item(),
                    "clip_coefficient": coef,
                    "kl": mean_of("kl"),
                    "entropy": mean_of("entropy"),
                    "clip_ratio_low": mean_of("clip_ratio_low"),
                    "clip_ratio_high": mean_of("clip_ratio_high"),
                    "clip_ratio_region": mean_of("clip_ratio_region"),
                    "gradient_elements": flat.numel(),
                    "gradient_elements_abs_below_1e-6": small,
                    "gradient_elements_exactly_zero": zero,
                })
                window = []

    config = dict(cfg)
    config["num_items_in_batch"] = num_items_in_batch
    doc = {
        "policy": "Tests/Fixtures/qwen2-tiny",
        "config": config,
        "prompts": PROMPTS,
        "completions": [{"prompt": p, "completion_ids": c, "truncated": t}
                        for (p, c), t in zip(COMPLETIONS, truncated)],
        "rewards": REWARDS,
        "advantages": advantages.tolist(),
        "decayed_parameters": decayed,
        "parameters": names,
        "old_logps": None if old is None else [x.tolist() for x in old],
        "ref_logps": None if ref is None else [x.tolist() for x in ref],
        "updates": updates,
        "safetensors": {"file": f"whole_update_{name}.safetensors", "dtype": "float32 (rounded from float64)",
                        "keys": "update{u}.gradient.<name> (accumulated, before clipping), "
                                "update{u}.weight.<name> (after the optimizer step)"},
    }
    with open(os.path.join(OUT, f"whole_update_{name}.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    save_file(tensors, os.path.join(OUT, f"whole_update_{name}.safetensors"))


def main():
    os.makedirs(OUT, exist_ok=True)
    loss_cases = make_loss_cases()
    with open(os.path.join(OUT, "loss_cases.json"), "w") as f:
        json.dump(loss_cases, f, separators=(",", ":"))
    print(f"loss_cases: {len(loss_cases['cases'])} cases, all agree with the plain-formula loss and gradient")
    with open(os.path.join(OUT, "adamw.json"), "w") as f:
        json.dump(make_adamw(), f, separators=(",", ":"))
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump(make_schedules(), f, separators=(",", ":"))
    for name, cfg in CASES.items():
        make_whole_update(name, cfg)
    with open(os.path.join(OUT, "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
                   "numpy": np.__version__}, f)
    total = 0
    for fn in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, fn))
        total += size
        print(f"  {fn}: {size} bytes")
    print(f"  total: {total} bytes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference outputs from PyTorch + transformers for the PolicyModel tests.

Builds tiny random Qwen2 and Llama checkpoints (Hugging Face layout) and, for a fixed batch of ragged
(prompt, completion) pairs, writes what transformers computes:
  - per-token log-probs and entropies of every completion token (temperature 1 and 0.7),
  - logits at a few positions,
  - gradients of loss = sum_{s,j} c[s][j] * logp[s][j] for fixed random c (the model's backward entry
    point takes exactly d loss / d logp = c), saved as safetensors with Hugging Face names,
  - greedy generations (model.generate, do_sample=False) for two prompts.
Expected values are computed in float64 so the float32 Swift model is compared against the truth.

Also writes a BF16 copy and a sharded copy of the Qwen2 checkpoint, for the loader tests.

Run (from the repository root):
  python3 -m venv /tmp/fixture-venv && /tmp/fixture-venv/bin/pip install torch transformers safetensors
  /tmp/fixture-venv/bin/python Tests/Fixtures/make_policy_fixtures.py
Versions used for the committed fixtures: see versions.json beside this script.
"""
import json
import os
import shutil

import torch
import transformers
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = {
    # untied embeddings, head_dim (16) != hidden / heads (8), GQA 4:2, rope_theta != 10000, q/k/v biases
    "qwen2-tiny": (Qwen2ForCausalLM, Qwen2Config(
        vocab_size=97, hidden_size=32, intermediate_size=56, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, rope_theta=50000.0, max_position_embeddings=256,
        tie_word_embeddings=False, initializer_range=0.25, bos_token_id=1, eos_token_id=2, use_sliding_window=False)),
    # tied embeddings, GQA 4:1, llama3 rope scaling, no biases
    "llama-tiny": (LlamaForCausalLM, LlamaConfig(
        vocab_size=89, hidden_size=48, intermediate_size=72, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=1, rms_norm_eps=1e-5, rope_theta=500000.0, max_position_embeddings=256,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 32},
        tie_word_embeddings=True, initializer_range=0.25, attention_bias=False, bos_token_id=1, eos_token_id=2)),
}


def batch_for(vocab, generator):
    """Ragged prompts and completions, including a 1-token prompt and a 1-token completion."""
    shapes = [(5, 7), (1, 4), (9, 1), (3, 12)]
    batch = []
    for p, c in shapes:
        ids = torch.randint(3, vocab, (p + c,), generator=generator).tolist()
        batch.append({"prompt_ids": ids[:p], "completion_ids": ids[p:]})
    return batch


def completion_logprobs(model, batch, temperature):
    logps, entropies, logits_at = [], [], []
    for item in batch:
        ids = torch.tensor([item["prompt_ids"] + item["completion_ids"]])
        logits = model(input_ids=ids).logits[0].double()
        p = len(item["prompt_ids"])
        scored = logits[p - 1:-1] / temperature
        logsm = torch.log_softmax(scored, dim=-1)
        target = torch.tensor(item["completion_ids"])
        logps.append(logsm.gather(-1, target[:, None])[:, 0])
        entropies.append(-(logsm.exp() * logsm).sum(-1))
        logits_at.append(logits)
    return logps, entropies, logits_at


def make(name, cls, config):
    out = os.path.join(HERE, name)
    shutil.rmtree(out, ignore_errors=True)
    torch.manual_seed(sum(name.encode()) + 7)  # stable across runs (str hash is salted)
    model = cls(config).float()
    with torch.no_grad():  # non-trivial norm weights and biases, so their gradients are tested too
        for pname, param in model.named_parameters():
            if "norm" in pname:
                param.copy_(1 + 0.3 * torch.randn_like(param))
            elif pname.endswith("bias"):
                param.copy_(0.2 * torch.randn_like(param))
    model.save_pretrained(out, safe_serialization=True)
    generator = torch.Generator().manual_seed(1234)
    batch = batch_for(config.vocab_size, generator)
    coefficients = [torch.randn(len(b["completion_ids"]), generator=generator, dtype=torch.float64) for b in batch]

    reference = model.double()
    reference.config._attn_implementation = "eager"
    logps, entropies, logits = completion_logprobs(reference, batch, 1.0)
    loss = sum((c * l).sum() for c, l in zip(coefficients, logps))
    reference.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().float().contiguous() for n, p in reference.named_parameters()}
    if config.tie_word_embeddings:
        grads.pop("lm_head.weight", None)
    save_file(grads, os.path.join(out, "expected_gradients.safetensors"))
    with torch.no_grad():
        logps_t, entropies_t, _ = completion_logprobs(reference, batch, 0.7)

    # Greedy decoding in float32, as a user would run it.
    model32 = reference.float()
    prompts = [batch[0]["prompt_ids"], batch[3]["prompt_ids"]]
    greedy = []
    with torch.no_grad():
        for prompt in prompts:
            out_ids = model32.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=12, min_new_tokens=12,
                                       eos_token_id=None, pad_token_id=0)
            greedy.append({"prompt_ids": prompt, "completion_ids": out_ids[0, len(prompt):].tolist()})

    expected = {
        "batch": [dict(b, coefficients=c.tolist()) for b, c in zip(batch, coefficients)],
        "logprobs": [l.tolist() for l in logps],
        "entropies": [e.tolist() for e in entropies],
        "logprobs_temperature_0.7": [l.tolist() for l in logps_t],
        "entropies_temperature_0.7": [e.tolist() for e in entropies_t],
        "loss": loss.item(),
        # logits of sequence 0 at its first and last position, and of sequence 3 at position 6
        "logits": [
            {"sequence": 0, "position": 0, "values": logits[0][0].tolist()},
            {"sequence": 0, "position": len(batch[0]["prompt_ids"]) + len(batch[0]["completion_ids"]) - 1,
             "values": logits[0][-1].tolist()},
            {"sequence": 3, "position": 6, "values": logits[3][6].tolist()},
        ],
        "greedy": greedy,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    return model32, out


def main():
    for name, (cls, config) in MODELS.items():
        model, out = make(name, cls, config)
        if name == "qwen2-tiny":
            # Start from the saved checkpoint each time: converting a live model to bf16 would also round
            # its rotary inv_freq buffer, which a checkpoint does not carry.
            bf16 = os.path.join(HERE, "qwen2-tiny-bf16")
            shutil.rmtree(bf16, ignore_errors=True)
            Qwen2ForCausalLM.from_pretrained(out).to(torch.bfloat16).save_pretrained(bf16, safe_serialization=True)
            sharded = os.path.join(HERE, "qwen2-tiny-sharded")
            shutil.rmtree(sharded, ignore_errors=True)
            Qwen2ForCausalLM.from_pretrained(out).save_pretrained(sharded, safe_serialization=True, max_shard_size="20KB")
            # log-probs of the bf16 weights upcast to float32, for the dtype conversion test
            upcast = Qwen2ForCausalLM.from_pretrained(bf16, dtype=torch.float32).double()
            item = json.load(open(os.path.join(out, "expected.json")))["batch"][0]
            with torch.no_grad():
                lp, _, _ = completion_logprobs(upcast, [item], 1.0)
            with open(os.path.join(bf16, "expected_bf16.json"), "w") as f:
                json.dump({"batch": [item], "logprobs": [lp[0].tolist()]}, f)
    with open(os.path.join(HERE, "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__}, f)
    prompts = os.path.join(HERE, "demo-prompts.jsonl")
    with open(prompts, "w") as f:
        for prompt in ([1, 5, 9, 14], [1, 22, 7], [1, 40, 41, 42, 43, 44]):
            f.write(json.dumps({"prompt_ids": prompt}) + "\n")


if __name__ == "__main__":
    main()

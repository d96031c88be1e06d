#!/usr/bin/env python3
"""Writes the Llama-family fixtures under Tests/Fixtures/: small random-init
models made by Hugging Face `transformers` (LlamaForCausalLM and
Qwen2ForCausalLM), saved as their checkpoints, and reference logits from a
float64 NumPy forward pass written here from the architecture's definition.

Each model covers part of what the loader and the forward pass must get right:
  llama-gqa    grouped-query attention (4 query heads, 2 key/value heads),
               llama3 rope scaling (all three wavelength bands), an untied
               head, the classic config form (rope_theta + rope_scaling at the
               top level), F32 weights.
  qwen2-bias   Qwen2: biases on q/k/v, one key/value head, a tied head, BF16
               weights, transformers 5's config form (rope_parameters), a
               checkpoint in three shards (model.safetensors.index.json).
  llama-bias   Llama with attention_bias and mlp_bias, head_dim 12 (not
               n_embd / n_head), a tied head, default rope.

Biases and norm gains are randomised (transformers initialises them to 0 and
1, which would hide a bias or gain read wrongly).

The NumPy reference is checked against transformers itself: transformers is
not float64 throughout even for a float64 model (RMSNorm upcasts to float32,
the rotary frequencies and angles are float32, eager softmax is float32), so
the script patches those upcasts out (RMSNorm and the rotary angles in
float64, sdpa attention) and requires agreement to 1e-13 of the largest
logit; it also requires transformers' own float32 rotary frequencies to agree
with the reference's to 1e-6 (which checks the llama3 scaling independently).

Usage (needs numpy, torch, transformers, safetensors):
    python3 scripts/make_llama_fixtures.py [Tests/Fixtures]
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")


# ---------------------------------------------------------------- the reference


def rope_frequencies(cfg):
    """The rotary frequencies of one head, in float64, with llama3 scaling when asked for."""
    hd = cfg["head_dim"]
    freqs = 1.0 / cfg["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    s = cfg["rope_scaling"]
    if s is None:
        return freqs
    context = float(s["original_max_position_embeddings"])
    low, high, factor = s["low_freq_factor"], s["high_freq_factor"], s["factor"]
    wavelength = 2 * math.pi / freqs
    smooth = (context / wavelength - low) / (high - low)
    medium = (1 - smooth) * freqs / factor + smooth * freqs
    return np.where(wavelength < context / high, freqs, np.where(wavelength > context / low, freqs / factor, medium))


def rms_norm(x, g, eps):
    return g * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rotate(x, positions, freqs):
    """x: [n, heads, hd]; the pair (i, i + hd/2) rotated by position * freqs[i]."""
    angles = positions[:, None] * freqs[None, :]                      # [n, hd/2]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def linear(x, w, b=None):
    """x @ w.T (+ b), w stored [out, in] as the checkpoint stores it."""
    y = x @ w.T
    return y if b is None else y + b


def forward(p, cfg, tokens):
    """Next-token logits [n, vocab] for tokens at positions 0…n-1, float64 throughout."""
    n, nh, nkv, hd = len(tokens), cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, freqs, positions = cfg["rms_norm_eps"], rope_frequencies(cfg), np.arange(n, dtype=np.float64)
    x = p["model.embed_tokens.weight"][tokens]                          # [n, d]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for l in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{l}."
        get = lambda name: p.get(pre + name)
        h = rms_norm(x, get("input_layernorm.weight"), eps)
        q = linear(h, get("self_attn.q_proj.weight"), get("self_attn.q_proj.bias")).reshape(n, nh, hd)
        k = linear(h, get("self_attn.k_proj.weight"), get("self_attn.k_proj.bias")).reshape(n, nkv, hd)
        v = linear(h, get("self_attn.v_proj.weight"), get("self_attn.v_proj.bias")).reshape(n, nkv, hd)
        q, k = rotate(q, positions, freqs), rotate(k, positions, freqs)
        heads = []
        for head in range(nh):
            kv = head // (nh // nkv)
            scores = q[:, head, :] @ k[:, kv, :].T / math.sqrt(hd) + mask
            weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights /= weights.sum(axis=-1, keepdims=True)
            heads.append(weights @ v[:, kv, :])
        x = x + linear(np.concatenate(heads, axis=-1), get("self_attn.o_proj.weight"), get("self_attn.o_proj.bias"))
        h = rms_norm(x, get("post_attention_layernorm.weight"), eps)
        gate = linear(h, get("mlp.gate_proj.weight"), get("mlp.gate_proj.bias"))
        up = linear(h, get("mlp.up_proj.weight"), get("mlp.up_proj.bias"))
        x = x + linear(gate / (1 + np.exp(-gate)) * up, get("mlp.down_proj.weight"), get("mlp.down_proj.bias"))
    head = p.get("lm_head.weight", p["model.embed_tokens.weight"])
    return rms_norm(x, p["model.norm.weight"], eps) @ head.T


def greedy(p, cfg, prompt, count):
    tokens = list(prompt)
    for _ in range(count):
        tokens.append(int(np.argmax(forward(p, cfg, tokens)[-1])))
    return tokens[len(prompt):]


# ------------------------------------------------------ transformers, patched


def patched_float64(model):
    """The model in float64 with transformers' float32 upcasts patched out."""
    model = model.to(torch.float64)

    def rms_forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))

    for module in model.modules():
        if type(module).__name__.endswith("RMSNorm"):
            module.forward = rms_forward.__get__(module)
    return model


def transformers_logits(model, cfg, tokens, float64_angles):
    ids = torch.tensor([tokens])
    if float64_angles:
        freqs = torch.tensor(rope_frequencies(cfg), dtype=torch.float64)
        rotary = model.model.rotary_emb

        def rotary_forward(self, x, position_ids):
            angles = position_ids[..., None].to(torch.float64) * freqs
            emb = torch.cat((angles, angles), dim=-1)
            return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

        rotary.forward = rotary_forward.__get__(rotary)
    with torch.no_grad():
        return model(ids).logits[0].double().numpy()


# ------------------------------------------------------------------ fixtures


def randomise(model, seed):
    """Biases and norm gains away from transformers' 0 and 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.named_parameters():
            if name.endswith("bias"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.05)
            elif "norm" in name:
                t.copy_(1 + torch.randn(t.shape, generator=g) * 0.1)


def reference_config(hf):
    """The settings the reference reads, from a config.json as saved."""
    rope = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
    theta = hf.get("rope_theta", rope.get("rope_theta", 10000.0))
    scaling = rope if rope.get("rope_type", rope.get("type", "default")) == "llama3" else None
    return {
        "num_attention_heads": hf["num_attention_heads"],
        "num_key_value_heads": hf.get("num_key_value_heads", hf["num_attention_heads"]),
        "head_dim": hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"],
        "num_hidden_layers": hf["num_hidden_layers"],
        "rms_norm_eps": hf["rms_norm_eps"],
        "rope_theta": theta,
        "rope_scaling": scaling,
    }


def make(name, model_class, config, seed, dtype=torch.float32, classic_config=False, shard_size=None):
    torch.manual_seed(seed)
    model = model_class(config).eval()
    randomise(model, seed)
    model = model.to(dtype)
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    model.save_pretrained(directory, max_shard_size=shard_size or "1GB")
    for extra in ["generation_config.json"]:
        if os.path.exists(os.path.join(directory, extra)):
            os.remove(os.path.join(directory, extra))
    path = os.path.join(directory, "config.json")
    hf = json.load(open(path))
    if classic_config:   # the form written before transformers 5: rope_theta + rope_scaling at the top level
        rope = hf.pop("rope_parameters")
        hf["rope_theta"] = rope.pop("rope_theta")
        hf["rope_scaling"] = rope if rope.get("rope_type") != "default" else None
        json.dump(hf, open(path, "w"), indent=2, sort_keys=True)
    cfg = reference_config(hf)

    files = [f for f in os.listdir(directory) if f.endswith(".safetensors")]
    params = {}
    for f in files:
        params.update({k: v.double().numpy() for k, v in load_file(os.path.join(directory, f)).items()})
    rng = np.random.default_rng(seed)
    tokens = [int(t) for t in rng.integers(0, hf["vocab_size"], 24)]
    logits = forward(params, cfg, tokens)
    scale = float(np.abs(logits).max())

    # The reference against transformers, upcasts patched out, then as shipped (float32 inside).
    loaded = model_class.from_pretrained(directory, attn_implementation="sdpa", dtype=torch.float64).eval()
    hf_inv = loaded.model.rotary_emb.inv_freq.double().numpy()
    ours_inv = rope_frequencies(cfg)
    frequency_difference = float(np.max(np.abs(hf_inv - ours_inv) / ours_inv))
    assert frequency_difference < 1e-6, f"{name}: rotary frequencies differ by {frequency_difference}"
    shipped = transformers_logits(loaded, cfg, tokens, float64_angles=False)
    exact = transformers_logits(patched_float64(loaded), cfg, tokens, float64_angles=True)
    patched_difference = float(np.abs(exact - logits).max() / scale)
    shipped_difference = float(np.abs(shipped - logits).max() / scale)
    assert patched_difference < 1e-13, f"{name}: transformers (patched) differs from the reference by {patched_difference}"

    prompt = tokens[:5]
    reference = {
        "tokens": tokens,
        "logits": logits.tolist(),
        "prompt": prompt,
        "greedy": greedy(params, cfg, prompt, 10),
        "transformers_patched_relative_difference": patched_difference,
        "transformers_shipped_relative_difference": shipped_difference,
        "rope_frequency_relative_difference": frequency_difference,
    }
    with open(os.path.join(directory, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(f"{name}: {len(files)} file(s); reference vs transformers patched {patched_difference:.1e}, "
          f"as shipped {shipped_difference:.1e}; rope frequencies {frequency_difference:.1e}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    make("llama-gqa", LlamaForCausalLM, LlamaConfig(
        vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
         seed=1, classic_config=True)
    make("qwen2-bias", Qwen2ForCausalLM, Qwen2Config(
        vocab_size=80, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=1, max_position_embeddings=64, rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
         seed=2, dtype=torch.bfloat16, shard_size="20KB")
    make("llama-bias", LlamaForCausalLM, LlamaConfig(
        vocab_size=72, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, head_dim=12, max_position_embeddings=64, rms_norm_eps=1e-6, tie_word_embeddings=True,
        attention_bias=True, mlp_bias=True, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
         seed=3)

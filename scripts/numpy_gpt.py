"""A float64 NumPy GPT-2 forward pass (picoGPT's algorithm), the independent
reference the Swift tests are checked against. Imported by the fixture scripts.
"""
import numpy as np


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return g * (x - mu) / np.sqrt(var + eps) + b


def linear(x, p):
    return x @ p["w"] + p["b"]


def attention(x, p, n_head):
    n, d = x.shape
    qkv = linear(x, p["c_attn"])
    q, k, v = np.split(qkv, 3, axis=-1)
    hd = d // n_head
    mask = (1 - np.tri(n)) * -1e10
    out = []
    for h in range(n_head):
        s = slice(h * hd, (h + 1) * hd)
        w = softmax(q[:, s] @ k[:, s].T / np.sqrt(hd) + mask)
        out.append(w @ v[:, s])
    return linear(np.hstack(out), p["c_proj"])


def mlp(x, p):
    return linear(gelu(linear(x, p["c_fc"])), p["c_proj"])


def block(x, p, n_head):
    ln1 = layer_norm(x, **p["ln_1"]) if "ln_1" in p else x
    x = x + attention(ln1, p["attn"], n_head)
    if "mlp" in p:
        ln2 = layer_norm(x, **p["ln_2"]) if "ln_2" in p else x
        x = x + mlp(ln2, p["mlp"])
    return x


def gpt(tokens, m):
    cfg = m["config"]
    x = m["wte"][tokens] + m["wpe"][np.arange(len(tokens))]
    for p in m["blocks"]:
        x = block(x, p, cfg["n_head"])
    if "ln_f" in m:
        x = layer_norm(x, **m["ln_f"])
    return x @ m["wte"].T

#!/usr/bin/env python3
"""Writes Tests/Fixtures/linalg.json: small matrices and their products,
inverses, determinants and solutions, computed by NumPy (an independent
reference for the Swift engine). Run from the repo root:
    python3 scripts/make_linalg_fixtures.py
"""
import json
import numpy as np

rng = np.random.default_rng(20261123)


def m(x):
    return np.asarray(x, dtype=np.float64).tolist()


cases = {}
a = rng.normal(size=(7, 13))
b = rng.normal(size=(13, 5))
c = rng.normal(size=(7, 5))
cases["gemm"] = {"a": m(a), "b": m(b), "c": m(c), "alpha": 0.75, "beta": -1.5,
                 "ab": m(a @ b), "general": m(0.75 * a @ b - 1.5 * c)}
x = rng.normal(size=(1, 13))
cases["gemv"] = {"x": m(x), "b": m(b), "xb": m(x @ b), "bt_x": m(b.T @ x.T)}
sq = rng.normal(size=(6, 6))
rhs = rng.normal(size=(6, 3))
cases["lapack"] = {"a": m(sq), "inverse": m(np.linalg.inv(sq)), "determinant": float(np.linalg.det(sq)),
                   "b": m(rhs), "solution": m(np.linalg.solve(sq, rhs))}
r = rng.normal(size=(4, 9))
cases["rows"] = {"x": m(r), "max": m(r.max(axis=1, keepdims=True)), "sum": m(r.sum(axis=1, keepdims=True)),
                 "mean": m(r.mean(axis=1, keepdims=True)), "var": m(r.var(axis=1, keepdims=True)),
                 "argmax": r.argmax(axis=1).tolist(), "exp": m(np.exp(r)), "tanh": m(np.tanh(r))}

with open("Tests/Fixtures/linalg.json", "w") as f:
    json.dump(cases, f, indent=1)
print("wrote Tests/Fixtures/linalg.json")

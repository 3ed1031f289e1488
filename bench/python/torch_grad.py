#!/usr/bin/env python3
"""Cross-language gradient check for coflow (float64).

Loads a params .npz and a data .npz written by coflow, recomputes the mean logistic loss and its
gradient from the literal Eq. 1 of Yang et al. (NeurIPS 2024),

    F(X) = sum_l sum_j a_j w_j^T W_V X softmax( X^T W_K^T W_Q x_l / sqrt(m) ),
    loss = mean_i log(1 + exp(-y_i F(X_i))),

with X = E[:, tokens] for the d x d one-hot embedding matrix E (no gather shortcut, no
r = W^T a folding), then compares with a coflow grad .npz using coflow's definition

    rel(M) = max|a - b| / max(max|b|, 1e-300)   per matrix (b = this script's value),

and exits 1 if any relative difference exceeds --tol (default 1e-10), 2 on bad input.

Engines: 'torch' differentiates with PyTorch autograd (Debian python3-torch at /usr/bin/python3).
'numpy' is a hand-written reverse pass of the same expression, for Pythons without PyTorch
(e.g. a pyenv NumPy-only interpreter). 'auto' (default) uses torch when importable.

Usage: torch_grad.py PARAMS.npz DATA.npz GRAD.npz [--engine auto|torch|numpy] [--tol 1e-10]
"""
import argparse
import sys

import numpy as np

TINY = 1e-300
PARAM_KEYS = ("WQ", "WK", "WV", "W", "a")
DATA_KEYS = ("tokens", "y")
GRAD_KEYS = ("loss", "F", "dWQ", "dWK", "dWV", "dW")


def fail_input(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path, keys):
    try:
        with np.load(path) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                fail_input(f"{path}: missing key(s) {', '.join(missing)}")
            return {k: np.asarray(z[k]) for k in keys}
    except OSError as e:
        fail_input(f"cannot read {path}: {e}")


def one_hot_inputs(tokens, d):
    """X_i = E[:, tokens_i] for E = I_d: shape (n, d, L)."""
    E = np.eye(d)
    return np.ascontiguousarray(np.transpose(E[:, tokens], (1, 0, 2)))


def loss_grad_torch(P, X, y):
    import torch

    t = {k: torch.tensor(P[k], dtype=torch.float64, requires_grad=(k != "a")) for k in PARAM_KEYS}
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    m = P["WQ"].shape[0]
    Q = t["WQ"] @ Xt  # (n, m, L)
    K = t["WK"] @ Xt
    V = t["WV"] @ Xt
    S = K.transpose(1, 2) @ Q / m**0.5  # (n, L, L): [key p, query l]
    Pm = torch.softmax(S, dim=1)  # over keys, per query column
    H = t["W"] @ (V @ Pm)  # (n, m1, L): w_j^T W_V X softmax(...)_l
    F = (t["a"] @ H).sum(dim=-1)  # sum_j a_j ..., then the sum over queries l
    # log(1 + exp(-yF)) = -log sigmoid(yF). Not softplus(-yF): softplus returns its input
    # unchanged beyond threshold=20, an error of ~2e-9 per sample that this check would see.
    loss = -torch.nn.functional.logsigmoid(yt * F).mean()
    loss.backward()
    grads = {"d" + k: t[k].grad.numpy() for k in ("WQ", "WK", "WV", "W")}
    return float(loss.detach()), F.detach().numpy(), grads


def loss_grad_numpy(P, X, y):
    WQ, WK, WV, W, a = (P[k] for k in PARAM_KEYS)
    n = X.shape[0]
    m = WQ.shape[0]
    # forward, literally
    Q = WQ @ X
    K = WK @ X
    V = WV @ X
    S = np.swapaxes(K, 1, 2) @ Q / np.sqrt(m)
    E = np.exp(S - S.max(axis=1, keepdims=True))
    Pm = E / E.sum(axis=1, keepdims=True)
    VP = V @ Pm  # (n, m, L)
    H = W @ VP  # (n, m1, L)
    F = np.einsum("j,njl->n", a, H)
    margin = y * F
    loss = np.mean(np.logaddexp(0.0, -margin))
    # reverse pass, one line per forward line (dl/dx = -1/(1+e^x) = -expit(-x))
    dF = -y * np.exp(-np.logaddexp(0.0, margin)) / n
    dH = dF[:, None, None] * a[None, :, None] * np.ones_like(H)
    dW = np.einsum("njl,nkl->jk", dH, VP)
    dVP = W.T @ dH
    dV = dVP @ np.swapaxes(Pm, 1, 2)
    dP = np.swapaxes(V, 1, 2) @ dVP
    dS = Pm * (dP - (dP * Pm).sum(axis=1, keepdims=True))  # softmax Jacobian, per column
    dS /= np.sqrt(m)
    dQ = K @ dS
    dK = Q @ np.swapaxes(dS, 1, 2)
    Xt = np.swapaxes(X, 1, 2)
    grads = {
        "dWQ": np.einsum("nml,nld->md", dQ, Xt),
        "dWK": np.einsum("nml,nld->md", dK, Xt),
        "dWV": np.einsum("nml,nld->md", dV, Xt),
        "dW": dW,
    }
    return float(loss), F, grads


def rel(a, b):
    diff = np.max(np.abs(a - b)) if a.size else 0.0
    if np.isnan(diff):
        return float("inf")
    return float(diff / max(np.max(np.abs(b)) if b.size else 0.0, TINY))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("params")
    ap.add_argument("data")
    ap.add_argument("grad")
    ap.add_argument("--engine", choices=("auto", "torch", "numpy"), default="auto")
    ap.add_argument("--tol", type=float, default=1e-10)
    args = ap.parse_args()

    P = {k: v.astype(np.float64) for k, v in load(args.params, PARAM_KEYS).items()}
    D = load(args.data, DATA_KEYS)
    G = load(args.grad, GRAD_KEYS)
    m, d = P["WQ"].shape
    m1 = P["W"].shape[0]
    tokens = D["tokens"].astype(np.int64)
    y = D["y"].astype(np.float64)
    if tokens.ndim != 2 or tokens.min() < 0 or tokens.max() >= d:
        fail_input(f"{args.data}: tokens must be an n x L array of ids in [0, {d})")
    for k, shape in (("dWQ", (m, d)), ("dWK", (m, d)), ("dWV", (m, d)), ("dW", (m1, m))):
        if G[k].shape != shape:
            fail_input(f"{args.grad}: key '{k}' has shape {G[k].shape}, expected {shape}")

    engine = args.engine
    if engine == "auto":
        try:
            import torch  # noqa: F401

            engine = "torch"
        except ImportError:
            engine = "numpy"
    X = one_hot_inputs(tokens, d)
    loss, F, grads = (loss_grad_torch if engine == "torch" else loss_grad_numpy)(P, X, y)

    results = {"loss": rel(np.atleast_1d(G["loss"]).astype(np.float64), np.array([loss])), "F": rel(G["F"], F)}
    for k in ("dWQ", "dWK", "dWV", "dW"):
        results[k] = rel(G[k], grads[k])
    print(f"engine {engine}; numpy {np.__version__}; n={tokens.shape[0]} L={tokens.shape[1]} d={d} m={m} m1={m1}")
    for k, r in results.items():
        print(f"{k:5s} max rel diff {r:.3e}")
    worst = max(results, key=results.get)
    ok = results[worst] <= args.tol
    print(f"{'PASS' if ok else 'FAIL'}: worst {worst} {results[worst]:.3e} (tol {args.tol:g})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

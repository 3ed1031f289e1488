#!/usr/bin/env python3
"""Reference timings for `npm run bench`: the paper-fig1 problem in PyTorch and SciPy, float64,
one CPU thread, written the way a PyTorch user would write it (batched one-hot inputs, autograd).

  reference.py flow PARAMS.npz DATA.npz --t-end 300 --rtol 1e-8 --atol 1e-10
      scipy.integrate.solve_ivp(RK45) of gradient flow with a PyTorch autograd gradient.
  reference.py gd PARAMS.npz DATA.npz --lr 0.01 --steps 3000
      full-batch gradient descent with PyTorch autograd.

Prints one JSON object: seconds (the solve or the GD loop only, not start-up), nfev or steps,
and the final loss. Exit 2 when NumPy/SciPy/PyTorch are missing (the bench then says so).
"""
import argparse
import json
import sys
import time

try:
    import numpy as np
    import torch
    from scipy.integrate import solve_ivp
except ImportError as e:  # the bench reports this and skips the comparison
    print(json.dumps({"error": f"missing Python package: {e.name}"}))
    sys.exit(2)

torch.set_num_threads(1)


def load(params_path, data_path):
    with np.load(params_path) as z:
        P = {k: torch.tensor(z[k], dtype=torch.float64) for k in ("WQ", "WK", "WV", "W", "a")}
    with np.load(data_path) as z:
        tokens = np.asarray(z["tokens"])
        y = torch.tensor(z["y"], dtype=torch.float64)
    d = P["WQ"].shape[1]
    X = torch.tensor(np.transpose(np.eye(d)[:, tokens], (1, 0, 2)))  # n x d x L one-hot
    return P, X, y


def loss_fn(WQ, WK, WV, W, a, X, y):
    m = WQ.shape[0]
    Q = WQ @ X  # n x m x L
    K = WK @ X
    V = WV @ X
    S = K.transpose(1, 2) @ Q / m ** 0.5  # n x L(keys) x L(queries)
    A = torch.softmax(S, dim=1)  # softmax over keys
    H = W @ (V @ A)  # n x m1 x L
    F = (a @ H).sum(dim=1)  # sum over queries
    return torch.nn.functional.softplus(-y * F).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["flow", "gd"])
    ap.add_argument("params")
    ap.add_argument("data")
    ap.add_argument("--t-end", type=float, default=300.0)
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--atol", type=float, default=1e-10)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=3000)
    # flow only: the output grid t = 0 and (samples - 1) log-spaced times from first * t_end to
    # t_end, as coflow's recorded rows (0: no t_eval); the best of `repeats` solves is reported
    ap.add_argument("--samples", type=int, default=0)
    ap.add_argument("--first", type=float, default=1e-4)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    P, X, y = load(args.params, args.data)
    a = P["a"]
    shapes = [P[k].shape for k in ("WQ", "WK", "WV", "W")]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack(vec):
        out, o = [], 0
        for s, n in zip(shapes, sizes):
            out.append(vec[o:o + n].reshape(s))
            o += n
        return out

    if args.mode == "gd":
        ws = [P[k].clone().requires_grad_(True) for k in ("WQ", "WK", "WV", "W")]
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = loss_fn(*ws, a, X, y)
            grads = torch.autograd.grad(loss, ws)
            with torch.no_grad():
                for w, g in zip(ws, grads):
                    w -= args.lr * g
        seconds = time.perf_counter() - t0
        with torch.no_grad():
            final = float(loss_fn(*ws, a, X, y))
        print(json.dumps({"mode": "gd", "steps": args.steps, "seconds": seconds, "loss": final}))
        return

    nfev = 0

    def rhs(_t, vec):
        nonlocal nfev
        nfev += 1
        ws = [w.clone().requires_grad_(True) for w in unpack(torch.from_numpy(vec))]
        loss = loss_fn(*ws, a, X, y)
        grads = torch.autograd.grad(loss, ws)
        return -torch.cat([g.reshape(-1) for g in grads]).numpy()

    y0 = torch.cat([P[k].reshape(-1) for k in ("WQ", "WK", "WV", "W")]).numpy()
    t_eval = None
    if args.samples > 2:
        t_eval = np.concatenate([[0.0], np.geomspace(args.first * args.t_end, args.t_end, args.samples - 1)])
        t_eval[-1] = args.t_end
    seconds = float("inf")
    for _ in range(max(1, args.repeats)):
        nfev = 0
        t0 = time.perf_counter()
        sol = solve_ivp(rhs, (0.0, args.t_end), y0, method="RK45", rtol=args.rtol, atol=args.atol, t_eval=t_eval)
        seconds = min(seconds, time.perf_counter() - t0)
    with torch.no_grad():
        final = float(loss_fn(*unpack(torch.from_numpy(sol.y[:, -1])), a, X, y))
    print(json.dumps({"mode": "flow", "nfev": nfev, "seconds": seconds, "loss": final, "status": sol.status}))


if __name__ == "__main__":
    main()

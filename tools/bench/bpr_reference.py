#!/usr/bin/env python3
"""The VBPR training step of @sgfd/models in numpy (BLAS through numpy's OpenBLAS): the baseline of
`npm run bench -- train`. Same shapes and the same work per batch as the TypeScript step:

  distinct items of the batch (positives and negatives) -> their image and text rows -> one projection
  per modality to d, summed, plus a bias -> item rows [id embedding d ; projection d] -> BPR with
  MMRec's EmbLoss (Frobenius norms of the batch's user/pos/neg rows over the batch size) -> gradients by
  hand -> Adam (torch formulation) on every parameter, dense, as tfjs does.

Prints one JSON object: {"epochMs": best epoch wall time, "stepMs": ..., "batches": ...}.
Exits with status 3 and a message on stderr when numpy is missing.
"""
import argparse
import json
import sys
import time

try:
    import numpy as np
except ImportError:  # the benchmark prints a notice and skips the ratio
    sys.stderr.write("numpy is not installed (pip install numpy): no numpy reference\n")
    sys.exit(3)


class Adam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        step_size = self.lr / (1 - self.b1 ** self.t)
        bc2 = np.sqrt(1 - self.b2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= step_size * m / (np.sqrt(v) / bc2 + self.eps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--items", type=int, required=True)
    ap.add_argument("--train", type=int, required=True, help="training interactions (one epoch)")
    ap.add_argument("--image-dim", type=int, default=4096)
    ap.add_argument("--text-dim", type=int, default=384)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--reg", type=float, default=1e-3)
    a = ap.parse_args()

    rng = np.random.default_rng(0)
    f32 = np.float32
    d = a.dim
    xv = np.maximum(rng.standard_normal((a.items, a.image_dim), dtype=f32), 0)
    xt = rng.standard_normal((a.items, a.text_dim), dtype=f32)
    U = (rng.standard_normal((a.users, 2 * d), dtype=f32) * 0.1).astype(f32)
    I = (rng.standard_normal((a.items, d), dtype=f32) * 0.1).astype(f32)
    Wv = (rng.standard_normal((a.image_dim, d), dtype=f32) * 0.02).astype(f32)
    Wt = (rng.standard_normal((a.text_dim, d), dtype=f32) * 0.02).astype(f32)
    b = np.zeros(d, dtype=f32)
    params = [U, I, Wv, Wt, b]
    opt = Adam(params)
    train_users = rng.integers(0, a.users, a.train)
    train_items = rng.integers(0, a.items, a.train)

    def step(users, pos, neg):
        B = users.shape[0]
        k, inverse = np.unique(np.concatenate([pos, neg]), return_inverse=True)
        pi, ni = inverse[:B], inverse[B:]
        xvk, xtk = xv[k], xt[k]
        proj = xvk @ Wv + xtk @ Wt + b
        rows = np.concatenate([I[k], proj], axis=1)
        ue, pe, ne = U[users], rows[pi], rows[ni]
        x = np.sum(ue * (pe - ne), axis=1)
        s = 1 / (1 + np.exp(-x))
        loss = -np.mean(np.log(1e-10 + s))
        nu, np_, nn = (np.sqrt(np.sum(t * t)) for t in (ue, pe, ne))
        loss += a.reg * (nu + np_ + nn) / B
        dx = (-(s * (1 - s)) / (1e-10 + s) / B)[:, None].astype(f32)
        due = dx * (pe - ne) + (a.reg / (B * nu)) * ue
        dpe = dx * ue + (a.reg / (B * np_)) * pe
        dne = -dx * ue + (a.reg / (B * nn)) * ne
        drows = np.zeros_like(rows)
        np.add.at(drows, pi, dpe)
        np.add.at(drows, ni, dne)
        dU = np.zeros_like(U)
        np.add.at(dU, users, due)
        dI = np.zeros_like(I)
        dI[k] = drows[:, :d]
        dproj = drows[:, d:]
        dWv = xvk.T @ dproj
        dWt = xtk.T @ dproj
        db = dproj.sum(axis=0)
        opt.step([dU, dI, dWv, dWt, db])
        return loss

    best = float("inf")
    batches = (a.train + a.batch - 1) // a.batch
    for _ in range(a.epochs):
        order = rng.permutation(a.train)
        t0 = time.perf_counter()
        for start in range(0, a.train, a.batch):
            rows = order[start:start + a.batch]
            step(train_users[rows], train_items[rows], rng.integers(0, a.items, rows.shape[0]))
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"epochMs": best * 1000, "stepMs": best * 1000 / batches, "batches": batches,
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()

"""L2-regularised logistic regression by Newton's method, and the AUC: the numbers behind
scripts/derive_dropout_weights.py, in pure Python (a few features, tens of thousands of rows)."""

from __future__ import annotations

import math


def fit(xs: list[list[float]], ys: list[int], l2: float, iterations: int = 25) -> list[float]:
    """Newton's method for L2-regularised logistic regression; returns [intercept, w...]."""
    k = len(xs[0]) + 1
    beta = [0.0] * k
    rows = [[1.0, *x] for x in xs]
    for _ in range(iterations):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for row, y in zip(rows, ys, strict=True):
            z = sum(b * v for b, v in zip(beta, row, strict=True))
            p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
            w = p * (1 - p)
            for a in range(k):
                grad[a] += (y - p) * row[a]
                ra = row[a] * w
                hess_a = hess[a]
                for b in range(a, k):
                    hess_a[b] += ra * row[b]
        for a in range(k):
            for b in range(a):
                hess[a][b] = hess[b][a]
            if a:  # the intercept is not penalised
                grad[a] -= l2 * beta[a]
                hess[a][a] += l2
        step = _solve(hess, grad)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return beta


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col and m[col][col]:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def auc(scores: list[float], ys: list[int]) -> float:
    """Probability that a random drop-out ranks above a random stayer (ties count half)."""
    ranked = sorted(zip(scores, ys, strict=True))
    pos = sum(ys)
    neg = len(ys) - pos
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2
        rank_sum += mid * sum(y for _, y in ranked[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")

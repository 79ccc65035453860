"""Rating systems over arrays of pairwise battles, in the style of FastChat's ``rating_systems.py``.

Everything here is pure NumPy (SciPy/scikit-learn are only used by tests and the benchmark
baseline). A battle is ``(a, b, outcome)`` with integer model indices and ``outcome`` = 1 when ``a``
won, 0 when ``b`` won and 0.5 for a tie (``tie`` and ``both bad`` count as ties, as in Chatbot Arena).

* :func:`online_elo` — the chess-style sequential update (depends on battle order; K shown in UI).
* :func:`aggregate` — identical (a, b, outcome[, style]) rows become one row with a count weight.
* :func:`fit_bt` — Bradley–Terry maximum likelihood = logistic regression on the design matrix
  ``x[a] = +1, x[b] = -1`` (plus optional style covariates, Chatbot Arena's "style control").
  Solved by Newton's method, **batched**: many weight vectors (bootstrap rounds) at once.
* :func:`bootstrap_bt` — multinomial bootstrap over the aggregated rows (each round only
  re-weights the unique rows), warm-started from the full-data fit; percentile 95% intervals.
* :func:`to_elo_scale` — natural-log strengths → the familiar 400-point/base-10 scale around 1000.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SCALE = 400.0
BASE = 10.0
INIT_RATING = 1000.0
ALPHA = math.log(BASE) / SCALE  # Elo points → natural-log odds


# --------------------------------------------------------------------------------------------
# online Elo
# --------------------------------------------------------------------------------------------

def online_elo(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int, k: float = 4.0,
               init: float = INIT_RATING, scale: float = SCALE, base: float = BASE) -> np.ndarray:
    """Sequential Elo: for each battle in order, ``r_a += k (s_a - e_a)``, ``r_b -= k (s_a - e_a)``."""
    ratings = np.full(n_models, float(init))
    for i, j, s in zip(np.asarray(a, int), np.asarray(b, int), np.asarray(outcome, float)):
        expected = 1.0 / (1.0 + base ** ((ratings[j] - ratings[i]) / scale))
        delta = k * (s - expected)
        ratings[i] += delta
        ratings[j] -= delta
    return ratings


def elo_history(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int, k: float = 4.0) -> np.ndarray:
    """Elo ratings after each battle, shape (n_battles, n_models) (for the stability chart)."""
    ratings = np.full(n_models, INIT_RATING)
    out = np.empty((len(a), n_models))
    for t, (i, j, s) in enumerate(zip(np.asarray(a, int), np.asarray(b, int), np.asarray(outcome, float))):
        expected = 1.0 / (1.0 + BASE ** ((ratings[j] - ratings[i]) / SCALE))
        ratings[i] += k * (s - expected)
        ratings[j] -= k * (s - expected)
        out[t] = ratings
    return out


# --------------------------------------------------------------------------------------------
# Bradley–Terry
# --------------------------------------------------------------------------------------------

@dataclass
class Aggregated:
    """Unique battle rows with counts: the sufficient statistics of the BT likelihood."""

    a: np.ndarray  # (U,) int
    b: np.ndarray  # (U,) int
    outcome: np.ndarray  # (U,) float in {0, .5, 1}
    weight: np.ndarray  # (U,) float counts
    style: np.ndarray  # (U, k) float style-feature differences (k may be 0)
    n_models: int

    @property
    def n_battles(self) -> float:
        return float(self.weight.sum())


def aggregate(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int,
              style: np.ndarray | None = None, weight: np.ndarray | None = None,
              style_bins: int | None = None) -> Aggregated:
    """Collapse identical (a, b, outcome[, style]) rows into counts.

    Pairs are canonicalised so that ``a < b`` (flipping the outcome and style sign), which halves
    the number of unique rows. Continuous style features make rows unique unless ``style_bins``
    rounds them (the benchmark uses raw features; rounding is optional).
    """
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    y = np.asarray(outcome, np.float64)
    w = np.ones(len(a)) if weight is None else np.asarray(weight, np.float64)
    s = np.zeros((len(a), 0)) if style is None else np.asarray(style, np.float64).reshape(len(a), -1)
    if len(a) and (a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= n_models):
        raise ValueError("model index out of range")
    if np.any(a == b):
        raise ValueError("a battle needs two different models")
    flip = a > b
    a2, b2 = np.where(flip, b, a), np.where(flip, a, b)
    y2 = np.where(flip, 1.0 - y, y)
    s2 = np.where(flip[:, None], -s, s)
    if style_bins is not None and s2.shape[1]:
        s2 = np.round(s2 * style_bins) / style_bins
    # outcome code 0/1/2 for 0/.5/1
    code = np.rint(y2 * 2).astype(np.int64)
    if s2.shape[1] == 0:
        key = (a2 * n_models + b2) * 3 + code
        uniq, inv = np.unique(key, return_inverse=True)
        wsum = np.bincount(inv, weights=w, minlength=len(uniq))
        code_u = uniq % 3
        pair = uniq // 3
        return Aggregated(pair // n_models, pair % n_models, code_u / 2.0, wsum, np.zeros((len(uniq), 0)), n_models)
    rows = np.column_stack([a2, b2, code, s2])
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    wsum = np.bincount(inv, weights=w, minlength=len(uniq))
    return Aggregated(uniq[:, 0].astype(np.int64), uniq[:, 1].astype(np.int64), uniq[:, 2] / 2.0, wsum,
                      uniq[:, 3:], n_models)


def design_matrix(agg: Aggregated) -> np.ndarray:
    """``X`` (U, n_models + k): +1 for model a, -1 for model b, then the style differences."""
    u = len(agg.a)
    x = np.zeros((u, agg.n_models + agg.style.shape[1]))
    x[np.arange(u), agg.a] = 1.0
    x[np.arange(u), agg.b] = -1.0
    x[:, agg.n_models:] = agg.style
    return x


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_bt_batch(x: np.ndarray, y: np.ndarray, weights: np.ndarray, n_models: int, reg: float = 0.0,
                 init: np.ndarray | None = None, tol: float = 1e-9, max_iter: int = 50) -> np.ndarray:
    """Newton's method for many weight vectors at once.

    Minimises ``-Σ_u w_ru [y_u log p_u + (1-y_u) log(1-p_u)] + reg/2 |θ|²`` for every round ``r``,
    with ``p_u = σ(x_u · θ)``. The model strengths are identified by a zero-sum constraint
    (a penalty on their sum that leaves the optimum unchanged). Returns θ of shape (R, d).
    """
    weights = np.atleast_2d(np.asarray(weights, np.float64))
    r, d = weights.shape[0], x.shape[1]
    theta = np.zeros((r, d)) if init is None else np.array(np.broadcast_to(init, (r, d)), dtype=np.float64)
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), d * d)  # (U, d²)
    ones = np.zeros(d)
    ones[:n_models] = 1.0
    anchor = np.outer(ones, ones)
    total = weights.sum(axis=1, keepdims=True)  # (R, 1)
    active = np.ones(r, bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        th = theta[idx]
        w = weights[idx]
        p = _sigmoid(th @ x.T)  # (r, U)
        resid = w * (p - y)  # gradient of the loss w.r.t. the logits
        mean = th @ ones  # (r,)
        grad = resid @ x + reg * th + (total[idx] * mean[:, None]) * ones  # (r, d)
        hw = w * p * (1.0 - p)
        hess = (hw @ outer).reshape(-1, d, d) + reg * np.eye(d) + total[idx, :, None] * anchor
        hess += 1e-12 * np.eye(d)
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        big = np.abs(step).max(axis=1, keepdims=True)
        step = np.where(big > 5.0, step * (5.0 / np.maximum(big, 1e-300)), step)  # damp far-away starts
        theta[idx] = th - step
        done = np.abs(step).max(axis=1) < tol
        active[idx[done]] = False
    return theta


@dataclass
class BTResult:
    """Bradley–Terry strengths (natural-log scale, zero mean) and optional style coefficients."""

    strengths: np.ndarray  # (n_models,)
    style_coef: np.ndarray = field(default_factory=lambda: np.zeros(0))


def fit_bt(agg: Aggregated, reg: float = 0.0, tol: float = 1e-10) -> BTResult:
    """Maximum-likelihood Bradley–Terry (with style covariates when ``agg.style`` has columns)."""
    x = design_matrix(agg)
    theta = fit_bt_batch(x, agg.outcome, agg.weight[None, :], agg.n_models, reg=reg, tol=tol)[0]
    return BTResult(theta[:agg.n_models], theta[agg.n_models:])


def to_elo_scale(strengths: np.ndarray, init: float = INIT_RATING) -> np.ndarray:
    """Natural-log strengths → Elo-like points (400 points = 10:1 odds), mean ``init``."""
    s = np.asarray(strengths, float)
    return (s - s.mean(axis=-1, keepdims=True)) / ALPHA + init


@dataclass
class Bootstrap:
    """Point estimate plus percentile intervals from the bootstrap rounds (all natural-log scale)."""

    estimate: np.ndarray  # (n_models,)
    lower: np.ndarray
    upper: np.ndarray
    rounds: np.ndarray  # (R, n_models)
    style_coef: np.ndarray  # (k,)


def bootstrap_weights(weight: np.ndarray, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Resampling N battles with replacement = a multinomial draw over the unique rows."""
    n = int(round(weight.sum()))
    return rng.multinomial(n, weight / weight.sum(), size=rounds).astype(np.float64)


def bootstrap_bt(agg: Aggregated, rounds: int = 1000, reg: float = 0.0, seed: int = 0,
                 level: float = 0.95, chunk: int = 250) -> Bootstrap:
    """BT point fit + ``rounds`` bootstrap refits (aggregated, batched, warm-started)."""
    x = design_matrix(agg)
    full = fit_bt_batch(x, agg.outcome, agg.weight[None, :], agg.n_models, reg=reg)[0]
    rng = np.random.default_rng(seed)
    out = np.empty((rounds, x.shape[1]))
    for start in range(0, rounds, chunk):
        m = min(chunk, rounds - start)
        w = bootstrap_weights(agg.weight, m, rng)
        out[start:start + m] = fit_bt_batch(x, agg.outcome, w, agg.n_models, reg=reg, init=full, tol=1e-7)
    strengths = out[:, :agg.n_models]
    q = (1.0 - level) / 2.0
    lower, upper = np.quantile(strengths, [q, 1.0 - q], axis=0)
    return Bootstrap(full[:agg.n_models], lower, upper, strengths, full[agg.n_models:])


def naive_bootstrap_bt(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int, rounds: int,
                       seed: int = 0) -> np.ndarray:
    """The straightforward baseline: resample battles, refit from scratch with SciPy L-BFGS per round."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    y = np.asarray(outcome, float)
    out = np.empty((rounds, n_models))

    def loss(theta: np.ndarray, ia: np.ndarray, ib: np.ndarray, yy: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[ia] - theta[ib]
        p = _sigmoid(z)
        eps = 1e-12
        val = -np.sum(yy * np.log(p + eps) + (1 - yy) * np.log(1 - p + eps))
        g = p - yy
        grad = np.zeros_like(theta)
        np.add.at(grad, ia, g)
        np.add.at(grad, ib, -g)
        return float(val), grad

    for r in range(rounds):
        idx = rng.integers(0, len(a), len(a))
        res = minimize(loss, np.zeros(n_models), args=(a[idx], b[idx], y[idx]), jac=True, method="L-BFGS-B",
                       options={"maxiter": 200, "gtol": 1e-7})
        out[r] = res.x - res.x.mean()
    return out


# --------------------------------------------------------------------------------------------
# descriptive statistics
# --------------------------------------------------------------------------------------------

def win_matrix(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """(win rate of row over column counting ties as half, battle counts), both (n, n)."""
    wins = np.zeros((n_models, n_models))
    counts = np.zeros((n_models, n_models))
    a = np.asarray(a, int)
    b = np.asarray(b, int)
    y = np.asarray(outcome, float)
    np.add.at(wins, (a, b), y)
    np.add.at(wins, (b, a), 1.0 - y)
    np.add.at(counts, (a, b), 1.0)
    np.add.at(counts, (b, a), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(counts > 0, wins / np.maximum(counts, 1), np.nan)
    return rate, counts


def length_feature(len_a: np.ndarray, len_b: np.ndarray) -> np.ndarray:
    """Chatbot Arena's normalised length difference ``(len_a - len_b) / (len_a + len_b)`` in [-1, 1]."""
    la = np.asarray(len_a, float)
    lb = np.asarray(len_b, float)
    return np.where(la + lb > 0, (la - lb) / np.maximum(la + lb, 1.0), 0.0)


def rank_stability(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int, steps: int = 12,
                   reg: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """BT Elo-scale ratings after the first n votes for ``steps`` growing n: (ns, ratings (steps, n))."""
    total = len(a)
    if total == 0:
        return np.zeros(0, int), np.zeros((0, n_models))
    ns = np.unique(np.linspace(max(1, min(total, 5)), total, min(steps, total)).astype(int))
    out = np.empty((len(ns), n_models))
    for i, n in enumerate(ns):
        agg = aggregate(a[:n], b[:n], outcome[:n], n_models)
        out[i] = to_elo_scale(fit_bt(agg, reg=reg).strengths)
    return ns, out

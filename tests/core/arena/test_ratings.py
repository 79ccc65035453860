"""Rating math: BT recovers truth and matches scikit-learn; Elo by hand; bootstrap coverage; style control."""
from __future__ import annotations

import numpy as np
import pytest

from core.arena import ratings as R


def synth(true: np.ndarray, n: int, seed: int, tie: float = 0.0, style_beta: float = 0.0,
          verbose: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    m = len(true)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    len_a = rng.normal(300, 80, n).clip(20)
    len_b = rng.normal(300, 80, n).clip(20)
    if verbose is not None:
        len_a = len_a * verbose[a]
        len_b = len_b * verbose[b]
    feat = R.length_feature(len_a, len_b)
    p = R._sigmoid(true[a] - true[b] + style_beta * feat)
    y = (rng.random(n) < p).astype(float)
    y[rng.random(n) < tie] = 0.5
    return a, b, y, len_a, len_b


def sklearn_fit(agg: R.Aggregated) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    x = R.design_matrix(agg)
    xs = np.vstack([x, x])
    ys = np.r_[np.ones(len(x)), np.zeros(len(x))]
    ws = np.r_[agg.weight * agg.outcome, agg.weight * (1 - agg.outcome)]
    keep = ws > 0
    # drop model 0's column (the reference) so the unpenalised problem is identified
    lr = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=100_000)
    lr.fit(xs[keep][:, 1:], ys[keep], sample_weight=ws[keep])
    coef = np.r_[0.0, lr.coef_[0]]
    strengths = coef[:agg.n_models]
    return np.r_[strengths - strengths.mean(), coef[agg.n_models:]]


def test_bt_recovers_order_and_matches_sklearn():
    true = np.array([-1.2, -0.6, -0.1, 0.3, 0.7, 1.1])
    a, b, y, *_ = synth(true, 6000, seed=3)
    agg = R.aggregate(a, b, y, len(true))
    assert agg.n_battles == 6000 and len(agg.a) <= 15 * 3
    fit = R.fit_bt(agg)
    assert list(np.argsort(fit.strengths)) == list(range(6))
    assert np.abs(fit.strengths - (true - true.mean())).max() < 0.15
    assert np.abs(fit.strengths - sklearn_fit(agg)).max() < 1e-3
    # ties (outcome ½) are handled identically by both fits
    a, b, y, *_ = synth(true, 6000, seed=4, tie=0.15)
    agg = R.aggregate(a, b, y, len(true))
    fit = R.fit_bt(agg)
    assert list(np.argsort(fit.strengths)) == list(range(6))
    assert np.abs(fit.strengths - sklearn_fit(agg)).max() < 1e-3


def test_bt_with_style_matches_sklearn():
    true = np.array([0.5, 0.0, -0.5, 0.2])
    a, b, y, la, lb = synth(true, 5000, seed=5, style_beta=1.0)
    agg = R.aggregate(a, b, y, 4, style=R.length_feature(la, lb)[:, None], style_bins=100)
    fit = R.fit_bt(agg)
    ref = sklearn_fit(agg)
    assert np.abs(np.r_[fit.strengths, fit.style_coef] - ref).max() < 1e-3


def test_aggregation_is_lossless():
    true = np.array([0.3, -0.2, 0.0, 0.4, -0.5])
    a, b, y, *_ = synth(true, 2000, seed=9)
    raw = R.fit_bt_batch(np.eye(5)[a] - np.eye(5)[b], y, np.ones((1, len(a))), 5)[0]
    agg = R.fit_bt(R.aggregate(a, b, y, 5)).strengths
    assert np.abs(raw - agg).max() < 1e-8


def test_online_elo_matches_hand_computed_sequence():
    # 3 models, K = 32, start 1000
    # battle 1: 0 beats 1. E = 0.5 → r0 = 1016, r1 = 984
    # battle 2: 1 ties 2.  E(1 vs 2) = 1/(1+10^((1000-984)/400)) = 0.4769811 → r1 += 32*(0.5-0.4769811)
    e2 = 1 / (1 + 10 ** ((1000 - 984) / 400))
    r1 = 984 + 32 * (0.5 - e2)
    r2 = 1000 - 32 * (0.5 - e2)
    # battle 3: 2 beats 0.   E(2 vs 0) = 1/(1+10^((1016 - r2)/400))
    e3 = 1 / (1 + 10 ** ((1016 - r2) / 400))
    r2b = r2 + 32 * (1 - e3)
    r0 = 1016 - 32 * (1 - e3)
    got = R.online_elo([0, 1, 2], [1, 2, 0], [1.0, 0.5, 1.0], 3, k=32)
    assert got == pytest.approx([r0, r1, r2b], abs=1e-9)
    assert got == pytest.approx([999.2299, 984.7363, 1016.0338], abs=1e-3)  # worked out by hand
    assert R.elo_history([0, 1, 2], [1, 2, 0], [1.0, 0.5, 1.0], 3, k=32)[-1] == pytest.approx(got)


def test_elo_depends_on_order_but_bt_does_not():
    a = np.array([0, 0, 1, 1])
    b = np.array([1, 1, 0, 0])
    y = np.array([1.0, 1.0, 1.0, 1.0])
    e1 = R.online_elo(a, b, y, 2, k=32)
    e2 = R.online_elo(a[::-1], b[::-1], y[::-1], 2, k=32)
    assert abs(e1[0] - e2[0]) > 1
    b1 = R.fit_bt(R.aggregate(a, b, y, 2), reg=0.1).strengths
    b2 = R.fit_bt(R.aggregate(a[::-1], b[::-1], y[::-1], 2), reg=0.1).strengths
    assert np.allclose(b1, b2)


def test_bootstrap_ci_coverage_near_nominal():
    true = np.array([-0.8, -0.3, 0.0, 0.4, 0.7])
    centred = true - true.mean()
    hits = total = 0
    for rep in range(60):
        a, b, y, *_ = synth(true, 600, seed=100 + rep)
        boot = R.bootstrap_bt(R.aggregate(a, b, y, 5), rounds=200, seed=rep)
        hits += int(np.sum((boot.lower <= centred) & (centred <= boot.upper)))
        total += 5
    coverage = hits / total
    assert 0.88 <= coverage <= 0.99, coverage


def test_style_control_removes_length_bias():
    true = np.zeros(4)  # equally good models …
    verbose = np.array([2.5, 1.0, 1.0, 0.4])  # … but model 0 writes long answers, model 3 short ones
    a, b, y, la, lb = synth(true, 8000, seed=11, style_beta=2.0, verbose=verbose)
    plain = R.fit_bt(R.aggregate(a, b, y, 4)).strengths
    styled = R.fit_bt(R.aggregate(a, b, y, 4, style=R.length_feature(la, lb)[:, None], style_bins=200))
    assert plain[0] - plain[3] > 0.8  # length bias inflates the verbose model
    assert np.abs(styled.strengths).max() < 0.12  # gone with the style covariate
    assert styled.style_coef[0] == pytest.approx(2.0, abs=0.25)


def test_win_matrix_and_elo_scale():
    rate, counts = R.win_matrix([0, 0, 1], [1, 1, 0], [1.0, 0.5, 0.0], 2)
    assert counts[0, 1] == 3 and rate[0, 1] == pytest.approx(2.5 / 3) and rate[1, 0] == pytest.approx(0.5 / 3)
    elo = R.to_elo_scale(np.array([np.log(10), 0.0]))
    assert elo[0] - elo[1] == pytest.approx(400.0)
    assert elo.mean() == pytest.approx(1000.0)


def test_aggregate_rejects_bad_input():
    with pytest.raises(ValueError):
        R.aggregate([0], [0], [1.0], 2)
    with pytest.raises(ValueError):
        R.aggregate([0], [3], [1.0], 2)

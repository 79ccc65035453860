"""From stored votes to a leaderboard: online Elo, Bradley–Terry with bootstrap CIs, win rates."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from core.arena import ratings as R
from core.arena.store import Vote, outcome_of


@dataclass
class Row:
    rank: int
    model: str  # contestant id
    label: str
    bt: float  # Elo-scale BT rating
    lower: float
    upper: float
    elo: float
    votes: int
    win_rate: float


@dataclass
class Leaderboard:
    rows: list[Row]
    models: list[str]
    labels: list[str]
    win_rate: np.ndarray
    counts: np.ndarray
    n_votes: int
    n_excluded: int
    k: float
    style_control: bool
    length_coef: float | None
    stability_n: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    stability: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def compute(votes: Sequence[Vote], label: Callable[[str], str] = str, include_flagged: bool = False,
            style_control: bool = False, k: float = 4.0, rounds: int = 300, reg: float = 0.5,
            stability_steps: int = 12) -> Leaderboard:
    used = [v for v in votes if include_flagged or not v.flagged]
    excluded = len(votes) - len(used)
    models = sorted({v.model_a for v in used} | {v.model_b for v in used})
    n = len(models)
    labels = [label(m) for m in models]
    if not used or n < 2:
        return Leaderboard([], models, labels, np.zeros((n, n)), np.zeros((n, n)), len(used), excluded, k,
                           style_control, None)
    index = {m: i for i, m in enumerate(models)}
    a = np.array([index[v.model_a] for v in used])
    b = np.array([index[v.model_b] for v in used])
    y = np.array([outcome_of(v.winner) for v in used])
    style = R.length_feature([v.len_a for v in used], [v.len_b for v in used])[:, None] if style_control else None
    agg = R.aggregate(a, b, y, n, style=style, style_bins=50 if style_control else None)
    boot = R.bootstrap_bt(agg, rounds=rounds, reg=reg)
    elo = R.online_elo(a, b, y, n, k=k)
    rate, counts = R.win_matrix(a, b, y, n)
    bt = R.to_elo_scale(boot.estimate)
    shift = bt - boot.estimate / R.ALPHA  # the same offset for every model
    lower = boot.lower / R.ALPHA + shift
    upper = boot.upper / R.ALPHA + shift
    n_votes = counts.sum(axis=1)
    wins = np.nansum(np.where(counts > 0, rate * counts, 0.0), axis=1)
    order = np.argsort(-bt)
    rows = []
    for rank, i in enumerate(order, 1):
        rows.append(Row(rank, models[i], labels[i], float(bt[i]), float(lower[i]), float(upper[i]), float(elo[i]),
                        int(n_votes[i]), float(wins[i] / n_votes[i]) if n_votes[i] else 0.0))
    ns, stab = R.rank_stability(a, b, y, n, steps=stability_steps, reg=reg)
    coef = float(boot.style_coef[0]) if style_control and boot.style_coef.size else None
    return Leaderboard(rows, models, labels, rate, counts, len(used), excluded, k, style_control, coef, ns, stab)


def figures(board: Leaderboard) -> tuple[object, object, object, object]:
    """(ratings with CIs, win-rate heatmap, battle-count heatmap, stability chart) as plotly figures
    (plain: the app themes them for light/dark with ``apps.common.plots.themed``)."""
    import plotly.graph_objects as go

    def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
        fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=15)), height=height,
                          margin=dict(l=10, r=10, t=48, b=10), template="plotly_white",
                          font=dict(family="Inter, system-ui, sans-serif", size=12))
        return fig

    from core.escape import plot_labels

    shown = dict(zip(board.labels, plot_labels(board.labels, 32)))  # contestant names are free text
    rows = board.rows
    ci = go.Figure()
    if rows:
        ci.add_trace(go.Scatter(
            x=[shown.get(r.label, r.label) for r in rows], y=[r.bt for r in rows], mode="markers",
            marker=dict(size=11, color="#4f46e5"), name="Bradley–Terry",
            error_y=dict(type="data", symmetric=False, array=[r.upper - r.bt for r in rows],
                         arrayminus=[r.bt - r.lower for r in rows], color="#818cf8", thickness=2),
            hovertemplate="%{x}<br>BT %{y:.0f}<extra></extra>"))
        ci.add_trace(go.Scatter(x=[shown.get(r.label, r.label) for r in rows], y=[r.elo for r in rows], mode="markers",
                                marker=dict(size=9, symbol="diamond-open", color="#0d9488"),
                                name=f"online Elo (K={board.k:g})"))
    ci.update_yaxes(title="rating (Elo scale)")
    _layout(ci, "Ratings with bootstrap 95% confidence intervals")
    labels = [shown[name] for name in board.labels]
    text = [[("" if np.isnan(v) else f"{v:.0%}") for v in row] for row in board.win_rate]
    wr = go.Figure(go.Heatmap(z=board.win_rate, x=labels, y=labels, colorscale="RdBu", zmin=0, zmax=1,
                              text=text, texttemplate="%{text}", hovertemplate="%{y} beats %{x}: %{z:.0%}<extra></extra>",
                              colorbar=dict(title="win")))
    wr.update_xaxes(title="opponent", tickangle=-30)
    wr.update_yaxes(title="model", autorange="reversed")
    _layout(wr, "Win rate of row over column (ties count ½)", 420)
    counts = board.counts.astype(float).copy()
    np.fill_diagonal(counts, np.nan)  # a model never plays itself
    cnt = go.Figure(go.Heatmap(z=counts, x=labels, y=labels, colorscale="Blues",
                               text=[["" if np.isnan(v) else f"{v:.0f}" for v in row] for row in counts],
                               texttemplate="%{text}",
                               hovertemplate="%{y} vs %{x}: %{z:.0f} battles<extra></extra>"))
    cnt.update_xaxes(tickangle=-30)
    cnt.update_yaxes(autorange="reversed")
    _layout(cnt, "Battles per pair", 420)
    st = go.Figure()
    for i, name in enumerate(labels):
        if board.stability.size:
            st.add_trace(go.Scatter(x=board.stability_n, y=board.stability[:, i], mode="lines+markers", name=name))
    st.update_xaxes(title="votes so far")
    st.update_yaxes(title="BT rating")
    _layout(st, "How the ranking settles as votes accumulate")
    return ci, wr, cnt, st


@dataclass
class LiveBoard:
    """The instructor's live view: counts, a quick online-Elo ranking, votes per participant."""

    counts: dict[str, float]
    rows: list[list[object]]  # rank, label, Elo, battles
    voters: list[tuple[str, int]]


def live(store: Any, room: str, label: Callable[[str], str] = str, k: float = 4.0) -> LiveBoard:
    """A cheap board for polling every few seconds (online Elo over the room's anonymous votes)."""
    votes = store.votes(room, include_flagged=False, mode="anonymous")
    models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
    rows: list[list[object]] = []
    if len(models) >= 2:
        idx = {m: i for i, m in enumerate(models)}
        a = [idx[v.model_a] for v in votes]
        b = [idx[v.model_b] for v in votes]
        y = [outcome_of(v.winner) for v in votes]
        elo = R.online_elo(a, b, y, len(models), k=k)
        _, counts = R.win_matrix(a, b, y, len(models))
        for rank, i in enumerate(sorted(range(len(models)), key=lambda i: -elo[i]), 1):
            rows.append([rank, label(models[i]), round(float(elo[i])), int(counts[i].sum())])
    return LiveBoard(store.counts(room), rows, store.voters(room))

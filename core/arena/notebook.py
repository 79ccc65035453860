"""Pairwise Eval Arena → a notebook that computes the leaderboard from the exported votes: Bradley–Terry
as a logistic regression (scikit-learn, the way FastChat's ``compute_mle_elo`` does it; ties count
half a win each side, the lab's L2 strength as ``C``), optional length control (Chatbot Arena's
style covariate) and the online Elo. The votes travel as ``data/arena-votes.jsonl``; ``LAB_RESULT``
holds every contestant's ratings (book ch. 12, §12.4)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from core.notebooks import Notebook

PACKAGES = ("scikit-learn", "numpy", "pandas")
REG = 0.5  # core.arena.leaderboard.compute's L2 strength

_LOAD = '''
import json
import numpy as np, pandas as pd

votes = pd.read_json({rel!r}, lines=True)
INCLUDE_FLAGGED, INCLUDE_NAMED, LENGTH_CONTROL, K = {flagged}, {named}, {length}, {k}
used = votes[(votes["mode"] == "anonymous") | INCLUDE_NAMED]
used = used[~used["flagged"].astype(bool) | INCLUDE_FLAGGED].reset_index(drop=True)
models = sorted(set(used.model_a) | set(used.model_b))
print(len(votes), "votes exported,", len(used), "used;", len(models), "contestants")
used.winner.value_counts()
'''.strip()

_BT = '''
from sklearn.linear_model import LogisticRegression

SCALE, BASE, INIT = 400, 10, 1000
index = {{m: i for i, m in enumerate(models)}}
n = len(models)
X = np.zeros((len(used), n))
X[np.arange(len(used)), used.model_a.map(index)] = 1.0
X[np.arange(len(used)), used.model_b.map(index)] = -1.0
if LENGTH_CONTROL:  # Chatbot Arena's style covariate: normalised length difference (rounded to 1/50)
    la, lb = used.len_a.to_numpy(float), used.len_b.to_numpy(float)
    length = np.where(la + lb > 0, (la - lb) / np.maximum(la + lb, 1.0), 0.0)
    X = np.column_stack([X, np.round(length * 50) / 50])
outcome = used.winner.map({{"model_a": 1.0, "model_b": 0.0}}).fillna(0.5).to_numpy()  # tie / both bad = 0.5
# a tie is half a win and half a loss: each battle appears twice, weighted by its outcome
Xd = np.vstack([X, X])
yd = np.concatenate([np.ones(len(X)), np.zeros(len(X))])
wd = np.concatenate([outcome, 1.0 - outcome])
keep = wd > 0
lr = LogisticRegression(fit_intercept=False, C=1.0 / {reg}, tol=1e-10, max_iter=10_000)
lr.fit(Xd[keep], yd[keep], sample_weight=wd[keep])
strengths = lr.coef_[0][:n]
bt = (strengths - strengths.mean()) * SCALE / np.log(BASE) + INIT
board = pd.DataFrame({{"contestant": models, "Bradley-Terry": bt}}).sort_values("Bradley-Terry", ascending=False)
board
'''.strip()

_ELO = '''
ratings = {m: float(INIT) for m in models}
for a, b, s in zip(used.model_a, used.model_b, outcome):  # in vote order
    expected = 1.0 / (1.0 + BASE ** ((ratings[b] - ratings[a]) / SCALE))
    ratings[a] += K * (s - expected)
    ratings[b] -= K * (s - expected)
board["online Elo"] = board.contestant.map(ratings)
print(board.round(1).to_string(index=False))
print("LAB_RESULT " + json.dumps({"bt": dict(zip(models, map(float, bt))), "elo": ratings}))
'''.strip()


def notebook(votes: Sequence[Any], state: Mapping[str, Any], *, app: Any) -> Notebook:
    """The notebook of a leaderboard: ``votes`` (core.arena.store.Vote, as exported) and the board's
    settings ``state`` = {"room", "flagged", "named", "length", "k"}."""
    MANIFEST = app  # the app's manifest (slug, title, chapters), given by the caller
    from core.arena.export import votes_jsonl
    from core.errors import LabError
    from core.links import param_bool, param_float
    from core.settings import get_settings

    if not votes:
        raise LabError("No votes in this room yet: the notebook rates contestants from the votes.")
    flagged, named = param_bool(state.get("flagged")), param_bool(state.get("named"))
    length, k = param_bool(state.get("length")), param_float(state.get("k"), 4.0)
    params = {"room": state.get("room") or "public", "include_flagged": flagged, "include_named": named,
              "length_control": length, "k": k, "reg": REG}
    models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
    nb = Notebook(MANIFEST.slug, MANIFEST.title, MANIFEST.chapters[0], parameters=params, models=())
    rel = nb.add_data("arena-votes.jsonl", votes_jsonl(votes).encode("utf-8"))
    nb.setup(PACKAGES, mode=get_settings().mode)
    nb.md(f"Contestants in these votes: {', '.join(f'`{m}`' for m in models)}.")
    nb.section("§12.4 Evaluating generative models: human preference (Chatbot Arena)",
               f"The votes the arena exported (`{rel}`), with the leaderboard's filters.")
    nb.code(_LOAD.format(rel=rel, flagged=flagged, named=named, length=length, k=k))
    nb.section("§12.4 From pairwise votes to ratings: Bradley–Terry",
               "Bradley–Terry is a logistic regression on +1/−1 indicators of the two contestants; its "
               "coefficients are log-strengths, shown on the Elo scale (400 points = 10:1 odds, mean 1000).")
    nb.code(_BT.format(reg=REG))
    nb.section("§12.4 Online Elo", f"The chess-style update in vote order, K = {k:g}.")
    nb.code(_ELO)
    return nb

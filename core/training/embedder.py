"""Train your own embedder (book ch. 10): contrastive fine-tuning of MiniLM with
``MultipleNegativesRankingLoss`` on (anchor, positive[, negative]) pairs, measured before and after
by retrieval hit@k and MRR on held-out pairs.

MNR treats every other positive in the batch as a negative (the book: larger batches help). With
same-label pairs from a two-class dataset about half of those in-batch negatives share the anchor's
label; the explicit other-label negative of each triplet keeps the signal pointing the right way.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from core import jobs
from core.errors import LabError
from core.settings import get_settings
from core.training.callbacks import Curve, job_callback, quiet, training_args_common
from core.training.data import PairData, cap_steps

HUB_BASE = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULTS = {"steps": 40, "lr": 5e-5, "batch": 32}
KS = (1, 5)


@dataclass
class Retrieval:
    hits: dict[int, float]  # k -> share of queries with a relevant text in the top k
    mrr: float
    n: int

    def line(self) -> str:
        return " · ".join(f"hit@{k} {v:.3f}" for k, v in self.hits.items()) + f" · MRR {self.mrr:.3f} (n={self.n})"


@dataclass
class EmbedderRun:
    base: str
    before: Retrieval
    after: Retrieval
    trainable: int
    total: int
    steps: int
    seconds: float
    curve: Curve
    model: Any = field(repr=False, default=None)
    notes: list[str] = field(default_factory=list)


def base_name() -> str:
    if get_settings().offline:
        from core.assets import asset_dir

        return str(asset_dir("minilm"))
    return HUB_BASE


def load_embedder(base: str | None = None) -> Any:
    from sentence_transformers import SentenceTransformer

    base = base or base_name()
    try:
        return SentenceTransformer(base, device="cpu" if _cpu() else None)
    except OSError as exc:
        raise LabError(f"Could not load the embedder {base}: {exc}".split("\n")[0]) from None


def _cpu() -> bool:
    from core.gpu import device

    return device() != "cuda"


def evaluate(model: Any, data: PairData, ks: Sequence[int] = KS) -> Retrieval:
    """hit@k and MRR of the held-out queries over ``data.corpus`` (a query's own text excluded)."""
    import numpy as np

    jobs.check_stop()
    q = model.encode(data.eval_queries, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    jobs.check_stop()
    c = model.encode(data.corpus, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    sims = q @ c.T
    groups = np.array(data.corpus_groups, dtype=object)
    hits = {k: 0 for k in ks}
    rr = 0.0
    for i, query in enumerate(data.eval_queries):
        order = [j for j in np.argsort(-sims[i]) if data.corpus[j] != query]
        relevant = groups[order] == data.eval_groups[i]
        first = int(np.argmax(relevant)) if relevant.any() else None
        for k in ks:
            hits[k] += int(first is not None and first < k)
        rr += 1.0 / (first + 1) if first is not None else 0.0
    n = len(data.eval_queries)
    return Retrieval({k: v / n for k, v in hits.items()}, rr / n, n)


def train_embedder(data: PairData, base: str | None = None, steps: int = DEFAULTS["steps"],
                   lr: float = DEFAULTS["lr"], batch: int = DEFAULTS["batch"], curve: Curve | None = None,
                   seed: int = 42) -> EmbedderRun:
    """MNR fine-tuning on ``data.train``; retrieval measured before and after on the held-out part."""
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformerTrainer, SentenceTransformerTrainingArguments,
                                       losses)
    from sentence_transformers.training_args import BatchSamplers
    from transformers import set_seed

    from core.training.params import count_parameters

    started = time.perf_counter()
    curve = curve or Curve()
    set_seed(seed)
    jobs.report(0.0, "loading the embedder")
    model = load_embedder(base)
    jobs.report(0.0, "measuring before training")
    before = evaluate(model, data)
    columns: dict[str, list[str]] = {"anchor": [a for a, _, _ in data.train], "positive": [p for _, p, _ in data.train]}
    if all(neg for _, _, neg in data.train):
        columns["negative"] = [neg for _, _, neg in data.train]
    ds = Dataset.from_dict(columns)
    loss = losses.MultipleNegativesRankingLoss(model)
    trainable, total = count_parameters(model)
    with tempfile.TemporaryDirectory(prefix="lab-embedder-") as out:
        common = training_args_common(cap_steps(steps), min(batch, len(ds)), lr, out, seed)
        common.pop("use_cpu", None)
        args = SentenceTransformerTrainingArguments(**common, batch_sampler=BatchSamplers.NO_DUPLICATES,
                                                    use_cpu=_cpu())
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=ds, loss=loss,
                                             callbacks=[job_callback(curve, what="contrastive training")])
        quiet(trainer).train()
    jobs.check_stop()
    jobs.report(1.0, "measuring after training")
    after = evaluate(model, data)
    return EmbedderRun(base or base_name(), before, after, trainable, total, curve.step,
                       time.perf_counter() - started, curve, model,
                       notes=[*data.notes, f"{curve.step} steps of batch {min(batch, len(ds))}, lr {lr:g}, "
                              "MultipleNegativesRankingLoss (in-batch negatives)."])

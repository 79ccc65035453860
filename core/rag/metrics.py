"""Retrieval metrics (book §8.2.3): hit@k, MRR, nDCG@k and (mean) average precision.

All take ``rels``: the binary relevance of the ranked results, best first (``rels[0]`` is rank 1),
and where needed ``n_relevant``: how many relevant items exist for the query in the collection.
"""
from __future__ import annotations

import math
from collections.abc import Sequence


def hit_at_k(rels: Sequence[int], k: int) -> float:
    return 1.0 if any(rels[:k]) else 0.0


def reciprocal_rank(rels: Sequence[int]) -> float:
    for i, r in enumerate(rels, start=1):
        if r:
            return 1.0 / i
    return 0.0


def precision_at_k(rels: Sequence[int], k: int) -> float:
    return sum(1 for r in rels[:k] if r) / k if k > 0 else 0.0


def average_precision(rels: Sequence[int], n_relevant: int | None = None) -> float:
    """Mean of precision@i over the ranks i that hold a relevant item, divided by all relevant items
    (relevant items never retrieved count as precision 0). The book: relevant at rank 1 → 1.0,
    relevant at rank 3 → 1/3."""
    total = n_relevant if n_relevant is not None else sum(1 for r in rels if r)
    if total <= 0:
        return 0.0
    found, acc = 0, 0.0
    for i, r in enumerate(rels, start=1):
        if r:
            found += 1
            acc += found / i
    return acc / total


def ndcg_at_k(rels: Sequence[float], k: int = 10, n_relevant: int | None = None) -> float:
    """Normalised discounted cumulative gain with gains ``rels`` and log2(rank + 1) discounts."""
    dcg = sum(g / math.log2(i + 1) for i, g in enumerate(rels[:k], start=1) if g)
    if n_relevant is None:
        ideal = sorted((g for g in rels if g), reverse=True)
    else:
        ideal = [1.0] * n_relevant
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal[:k], start=1))
    return dcg / idcg if idcg > 0 else 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0

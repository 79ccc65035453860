"""Scoring retrievers on a labelled set of (question, relevant passage) pairs.

Relevance is labelled by passage, not by chunk id, so one labelled set works for every chunking:
a retrieved chunk is relevant for a passage when it contains the passage (case and whitespace
normalised); each passage counts once (a second chunk with the same passage is not a new hit).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from dataclasses import dataclass, field

from core.errors import LabError
from core.jobs import check_stop
from core.rag import metrics
from core.rag.chunking import normalise
from core.rag.documents import EvalItem
from core.rag.search import Collection, Hit, Scorer

DEPTH = 10


def judge(hits: Sequence[Hit], passages: Sequence[str]) -> list[int]:
    """Binary relevance per rank: 1 where a chunk holds a labelled passage not yet found above it."""
    wanted = [normalise(p) for p in passages if p.strip()]
    found: set[int] = set()
    rels = []
    for h in hits:
        text = normalise(h.chunk.text)
        new = [i for i, p in enumerate(wanted) if i not in found and p in text]
        rels.append(1 if new else 0)
        found.update(new[:1])
    return rels


@dataclass
class RetrieverScore:
    retriever: str
    hit_at_1: float
    hit_at_k: float
    mrr: float
    ndcg_at_10: float
    map: float
    per_question: list[dict] = field(default_factory=list)


@dataclass
class EvalReport:
    k: int
    n_questions: int
    scores: list[RetrieverScore]
    unanswerable: list[str]  # questions whose passages are not in the collection at all

    def table(self) -> list[list]:
        return [[s.retriever, round(s.hit_at_1, 3), round(s.hit_at_k, 3), round(s.mrr, 3),
                 round(s.ndcg_at_10, 3), round(s.map, 3)] for s in self.scores]

    def headers(self) -> list[str]:
        return ["retriever", "hit@1", f"hit@{self.k}", "MRR", "nDCG@10", "MAP"]


def parse_items(rows: Sequence[Sequence[str]]) -> list[EvalItem]:
    """Rows written in the UI: (question, passage[ || passage2 …]); blank rows are skipped."""
    items = []
    for row in rows:
        if not row or len(row) < 2:
            continue
        q, p = str(row[0] or "").strip(), str(row[1] or "").strip()
        if not q and not p:
            continue
        if not q or not p:
            raise LabError("Every evaluation row needs both a question and a relevant passage.")
        items.append(EvalItem(q, tuple(x.strip() for x in p.split("||") if x.strip())))
    if not items:
        raise LabError("The evaluation set is empty: write at least one question with its relevant passage.")
    return items


def evaluate(collection: Collection, items: Sequence[EvalItem], retrievers: Sequence[str] = ("bm25", "dense", "hybrid"),
             k: int = 5, reranker: Scorer | None = None,
             progress: Callable[[float, str], None] | None = None) -> EvalReport:
    if not len(collection):
        raise LabError("No documents are loaded: load the built-in corpus or upload files first.")
    if not 1 <= k <= DEPTH:
        raise LabError(f"k must be between 1 and {DEPTH}.")
    corpus = [normalise(c.text) for c in collection.chunks]
    usable, missing = [], []
    for item in items:
        n_rel = sum(1 for p in item.passages if any(normalise(p) in t for t in corpus))
        (usable if n_rel else missing).append((item, n_rel))
    if not usable:
        raise LabError("None of the labelled passages occurs in the loaded documents (check the spelling, "
                       "or load the documents they come from).")
    scores = []
    runs = [(r, None) for r in retrievers] + ([("hybrid+rerank", reranker)] if reranker else [])
    for n, (name, rr) in enumerate(runs):
        if progress:
            progress(n / len(runs), f"Scoring {name}")
        base = name.split("+")[0]
        h1, hk, rr_, nd, ap, rows = [], [], [], [], [], []
        for item, n_rel in usable:
            check_stop()
            hits = collection.search(item.question, base, DEPTH, reranker=rr, rerank_candidates=20)
            rels = judge(hits, item.passages)
            h1.append(metrics.hit_at_k(rels, 1))
            hk.append(metrics.hit_at_k(rels, k))
            rr_.append(metrics.reciprocal_rank(rels))
            nd.append(metrics.ndcg_at_k(rels, 10, n_rel))
            ap.append(metrics.average_precision(rels, n_rel))
            first = next((i for i, r in enumerate(rels, 1) if r), None)
            rows.append({"question": item.question, "first relevant rank": first, "AP": round(ap[-1], 3)})
        scores.append(RetrieverScore(name, metrics.mean(h1), metrics.mean(hk), metrics.mean(rr_),
                                     metrics.mean(nd), metrics.mean(ap), rows))
    return EvalReport(k, len(usable), scores, [i.question for i, _ in missing])


@dataclass(frozen=True)
class GridRow:
    """One (corpus, chunking, retriever) cell of :func:`evaluate_configs`."""

    corpus: str
    config: str  # ChunkConfig.key(), e.g. "tokens-200-40"
    chunks: int
    retriever: str
    n_questions: int
    hit_at_1: float
    hit_at_k: float
    mrr: float
    answerable: int  # questions whose passage lies whole inside some chunk of this chunking


def evaluate_configs(corpora: dict[str, tuple[Sequence[Any], Sequence[EvalItem]]], configs: Sequence[Any], *,
                     retrievers: Sequence[str] = ("bm25", "dense", "hybrid"), k: int = 3,
                     store: Any = None, encode_passages: Callable | None = None,
                     encode_query: Callable | None = None, embedder: str | None = None,
                     progress: Callable[[float, str], None] | None = None) -> list[GridRow]:
    """Score every chunking in ``configs`` × retriever on each corpus (name → (documents, labelled set)).

    Unlike :func:`evaluate`, questions whose passage no chunk contains whole (it was cut by a chunk
    boundary) are *not* skipped: they count as misses, since that is the chunking's fault."""
    from core.rag.store import build_collection

    rows: list[GridRow] = []
    steps = max(len(corpora) * len(configs), 1)
    for ci, (corpus, (docs, items)) in enumerate(corpora.items()):
        for gi, config in enumerate(configs):
            if progress:
                progress((ci * len(configs) + gi) / steps, f"{corpus}: {config.key()}")
            coll = build_collection(docs, config, store=store, encode_passages=encode_passages,
                                    encode_query=encode_query, embedder=embedder).collection
            texts = [normalise(c.text) for c in coll.chunks]
            answerable = sum(1 for i in items if any(normalise(p) in t for p in i.passages for t in texts))
            for retriever in retrievers:
                h1, hk, rr = [], [], []
                for item in items:
                    check_stop()
                    rels = judge(coll.search(item.question, retriever, DEPTH), item.passages)
                    h1.append(metrics.hit_at_k(rels, 1))
                    hk.append(metrics.hit_at_k(rels, k))
                    rr.append(metrics.reciprocal_rank(rels))
                rows.append(GridRow(corpus, config.key(), len(coll), retriever, len(items), metrics.mean(h1),
                                    metrics.mean(hk), metrics.mean(rr), answerable))
    return rows


def best_config(rows: Sequence[GridRow]) -> tuple[str, str]:
    """(chunking, retriever) with the best mean MRR over the corpora (ties: better mean hit@k)."""
    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in rows:
        scores.setdefault((r.config, r.retriever), []).append((r.mrr, r.hit_at_k))
    return max(scores, key=lambda key: (metrics.mean([m for m, _ in scores[key]]),
                                        metrics.mean([h for _, h in scores[key]])))

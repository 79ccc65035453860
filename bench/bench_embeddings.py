"""Embeddings benchmark: ``python -m bench.bench_embeddings [--repeats 3] [--threads 1 2]``.

Figures (all measured in this run; best of ``--repeats`` runs, torch and ONNX alternating, because the
machine is shared):
* MiniLM (the packaged all-MiniLM-L6-v2) on torch (sentence-transformers) vs ONNX Runtime on an
  export of the same weights (``core.embeddings_onnx``): docs/s on short snippets (health tweets)
  and on news-length texts (news articles, cut to the model's 256-token window), per thread count,
  and the ONNX/torch ratio;
* agreement on a test set: min and mean cosine between the two backends' embeddings, and the share
  of top-5 neighbours that are the same;
* ``core.embeddings.embed``: first call against a direct ``SentenceTransformer.encode`` (overhead of
  the cache path), and a cached repeat against the first call.

The lab adopts ONNX only where it is >= 1.5x faster with cosine >= 0.999 (issue 16).
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("LLM_LAB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.common import best_of  # noqa: E402

MODEL = "embed-minilm"


def corpora(n_short: int, n_news: int) -> tuple[list[str], list[str]]:
    """Short snippets (health tweets) and news-length texts (news articles) from the packaged data."""
    from core.topics.data import load_builtin

    tweets = [t for t in load_builtin("healthtweets").frame["text"].astype(str) if t.strip()]
    news = [t for t in load_builtin("news").frame["text"].astype(str) if len(t) > 1500]
    return tweets[:n_short], news[:n_news]


def agreement(a, b, k: int = 5) -> tuple[float, float, float]:
    """(min cosine, mean cosine, share of identical top-k neighbours) between two embedding sets."""
    import numpy as np

    cos = (a * b).sum(axis=1)
    top_a = np.argsort(-(a @ a.T), axis=1)[:, 1:k + 1]
    top_b = np.argsort(-(b @ b.T), axis=1)[:, 1:k + 1]
    same = np.mean([len(set(x) & set(y)) / k for x, y in zip(top_a, top_b)])
    return float(cos.min()), float(cos.mean()), float(same)


def interleaved_best(a, b, repeats: int) -> tuple[float, float]:
    """Best time of ``a`` and of ``b`` over ``repeats`` alternating runs (load swings hit both alike)."""
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(best_of(a, 1))
        tb.append(best_of(b, 1))
    return min(ta), min(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--short", type=int, default=512)
    parser.add_argument("--news", type=int, default=48)
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort
    import torch

    from core import embeddings, embeddings_onnx
    from core.loader import cache, load

    short, news = corpora(args.short, args.news)
    st = load(MODEL)
    print(f"Embeddings benchmark · MiniLM · {len(short)} short snippets (mean {np.mean([len(t) for t in short]):.0f} chars), "
          f"{len(news)} news texts (mean {np.mean([len(t) for t in news]):.0f} chars, cut to {st.max_seq_length} tokens) · "
          f"best of {args.repeats} · onnxruntime {ort.__version__}, torch {torch.__version__} · load {os.getloadavg()[0]:.1f}")
    embeddings_onnx.export(MODEL)
    print(f"\n  {'texts':<7} {'threads':>7} {'torch docs/s':>13} {'onnx docs/s':>12} {'onnx/torch':>11}")
    ratios = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        cache().discard((embeddings.identity(MODEL), "onnx"))
        from core.settings import override_settings

        with override_settings(torch_threads=threads):
            onnx = embeddings_onnx.encoder(MODEL)
        for label, texts in (("short", short), ("news", news)):
            t_torch, t_onnx = interleaved_best(
                lambda: st.encode(texts, batch_size=64, normalize_embeddings=True),
                lambda: onnx.encode(texts, batch_size=64), args.repeats)
            ratios.append(t_torch / t_onnx)
            print(f"  {label:<7} {threads:>7} {len(texts) / t_torch:13.1f} {len(texts) / t_onnx:12.1f} {t_torch / t_onnx:10.2f}×")

    test = short[:256] + news
    a = st.encode(test, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    b = onnx.encode(test, batch_size=64)
    lo, mean, same = agreement(a, b)
    print(f"\n  agreement on {len(test)} texts: cosine min {lo:.6f}, mean {mean:.6f}; same top-5 neighbours {same:.1%}")
    adopt = min(ratios) >= 1.5 and lo >= 0.999
    print(f"  verdict: ONNX {'meets' if adopt else 'does not meet'} the bar (>= 1.5x everywhere, cosine >= 0.999): "
          f"ratios {min(ratios):.2f}–{max(ratios):.2f}×")

    torch.set_num_threads(args.threads[0])
    embeddings.clear()
    direct = best_of(lambda: st.encode(short, batch_size=64, normalize_embeddings=True), 1)
    first = best_of(lambda: embeddings.embed(MODEL, short, disk=False), 1)
    cached = best_of(lambda: embeddings.embed(MODEL, short, disk=False), args.repeats)
    print(f"\n  core.embeddings.embed, {len(short)} short texts: first call {first:.2f} s = {first / direct:.2f}× a direct "
          f"encode ({direct:.2f} s); cached repeat {cached * 1000:.1f} ms = {first / cached:,.0f}× faster than the first")


if __name__ == "__main__":
    main()

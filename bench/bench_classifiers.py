"""Classifier Zoo benchmark: offline methods on the held-out Rotten Tomatoes split.

``python -m bench.bench_classifiers [--test N] [--train N]`` prints accuracy, weighted F1 and docs/s per
method, then the time of a cached re-evaluation as a ratio of the uncached one (same run, fresh cache).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--methods", default="tfidf,embed_lr,zeroshot,setfit,task,generative")
    args = parser.parse_args(argv)

    from core.classifiers import ZooConfig, builtin, evaluate
    from core.classifiers import embeddings, methods
    from core.settings import get_settings, override_settings

    keys = args.methods.split(",")
    cache = Path(tempfile.mkdtemp(prefix="llm-lab-bench-"))
    (cache / "assets").symlink_to(get_settings().assets_dir)
    with override_settings(cache_dir=cache):
        data = builtin(test_size=args.test, train_size=args.train)
        config = ZooConfig()
        started = time.perf_counter()
        first = evaluate(data, keys, config)
        uncached = time.perf_counter() - started
        methods.clear_fitted()  # refit everything; embeddings and the task model come from the cache
        embeddings.clear(disk=False)
        started = time.perf_counter()
        second = evaluate(data, keys, config)
        cached = time.perf_counter() - started
    print(f"Rotten Tomatoes snippets: {len(data.test_texts)} test / {len(data.train_texts)} train (seed 42)")
    print(f"{'method':45s} {'acc':>6s} {'F1(w)':>6s} {'book F1':>7s} {'docs/s':>8s} {'train s':>8s}")
    for r in first.results:
        if not r.ok:
            print(f"{r.title:45s} error: {r.error}")
            continue
        book = f"{r.book_f1:.2f}" if r.book_f1 else "—"
        print(f"{r.title:45s} {r.metrics.accuracy:6.3f} {r.metrics.f1:6.3f} {book:>7s} {r.docs_per_s:8.1f} "
              f"{r.fit_s:8.1f}")
    task = [next((r for r in ev.results if r.key == "task" and r.ok), None) for ev in (first, second)]
    if all(task):
        print(f"task model (warm start): trained in {task[0].fit_s:.1f} s, loaded from the cache dir in "
              f"{task[1].fit_s:.1f} s → {task[0].fit_s / max(task[1].fit_s, 1e-3):.0f}× faster")
    print(f"re-evaluation: uncached {uncached:.1f} s, cached {cached:.1f} s → cached/uncached = "
          f"{cached / uncached:.3f} ({uncached / cached:.1f}× faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

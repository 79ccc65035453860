"""Tokenizer Arena benchmark: ``python -m bench.bench_tokenizers``.

1. The full arena view (encode with spans, grapheme grouping, chips HTML, stats, boundary diff, the
   app's HTML) for 8 tokenizers on 10k and 100k characters, against the raw library ``encode`` calls
   alone for the same tokenizers in the same run; the ratio is the arena's overhead (aim: < 2×).
2. Load times per tokenizer: cold (a fresh Python process: library import + files) and warm
   (same process, libraries imported, files in the OS cache, our cache cleared).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from core.tokenizers import DEFAULT_OFFLINE, get_tokenizer, label_of  # noqa: E402
from core.tokenizers import arena as core_arena  # noqa: E402
from core.tokenizers import registry  # noqa: E402


def corpus(chars: int) -> str:
    """Mixed text (English, code, emoji, CJK, Arabic, numbers) from the built-in examples."""
    base = "\n".join(core_arena.examples().values())
    base += "\n" + "\n".join(s["text"] for s in core_arena.language_sentences())
    return (base * (chars // len(base) + 1))[:chars]


from bench.common import best_of as best  # noqa: E402


def full_view(text: str, ids: list[str]) -> int:
    from apps.tokenizers.views import arena_html, diff_html, notes_html

    result = core_arena.compare(text, ids)
    html = arena_html(result, False) + diff_html(result) + notes_html(result.notes)
    core_arena.summary_rows(result)
    return len(html)


def cold_load(arena_id: str) -> float:
    code = ("import time,os;os.environ['HF_HUB_OFFLINE']='1';t=time.perf_counter();"
            "from core.tokenizers import get_tokenizer;get_tokenizer(%r);print(time.perf_counter()-t)" % arena_id)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-load subprocesses")
    args = parser.parse_args(argv)
    ids = list(DEFAULT_OFFLINE)
    print(f"Tokenizer Arena benchmark — {len(ids)} tokenizers: {', '.join(ids)}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")

    for tid in ids:  # warm everything up first
        get_tokenizer(tid)
    print(f"{'text':>8} | {'raw encode (s)':>14} | {'arena view (s)':>14} | {'ratio':>6} | tokens (all 8)")
    for chars in (10_000, 100_000):
        text = corpus(chars)
        toks = [get_tokenizer(t) for t in ids]
        raws, views = [], []
        for _ in range(args.repeat):  # interleaved, so load from other processes hits both alike
            raws.append(best(lambda: [t.encode_ids(text) for t in toks], 1))
            views.append(best(lambda: full_view(text, ids), 1))
        raw, view = min(raws), min(views)
        n = sum(len(t.encode_ids(text)) for t in toks)
        print(f"{chars:>8,} | {raw:>14.4f} | {view:>14.4f} | {view / raw:>5.2f}× | {n:,}")

    print(f"\n{'tokenizer':<34} | {'cold load (s)':>13} | {'warm load (s)':>13}")
    warm: dict[str, float] = {}
    for tid in ids:
        registry.clear_cache()
        warm[tid] = best(lambda: (registry.clear_cache(), get_tokenizer(tid)), 2)
    colds = []
    for tid in ids:
        cold = float("nan") if args.no_cold else cold_load(tid)
        colds.append(cold)
        print(f"{label_of(tid):<34} | {cold:>13.2f} | {warm[tid]:>13.3f}")
    if not args.no_cold:
        print(f"{'median':<34} | {statistics.median(colds):>13.2f} | {statistics.median(warm.values()):>13.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

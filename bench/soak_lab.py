"""Soak: every app's main action at once, N users in total, for M minutes, with the lab's memory
sampled along the way.

    python -m bench.soak_lab --users 10 --minutes 10

Baseline (same run): the peak RSS of a process with every offline catalogue model loaded
(``bench.bench_lab``'s measurement). Reports errors per app and the RSS curve of the lab process
(with its children), and the end RSS as a ratio against that baseline.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

from bench.bench_lab import LOAD_ALL
from bench.load_lab import ACTIONS, _user, start_lab


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def _print_memory(url: str) -> None:
    """What the lab itself says it keeps (its memory budget's caches, loaded models, engine instances)."""
    from gradio_client import Client

    info = Client(url, verbose=False, download_files=False).predict(api_name="/lab_info")
    mem = info.get("memory", {})
    print(f"lab_info: loaded models {info.get('loaded_models')}; budget used {mem.get('used_mb')} MB "
          f"of {mem.get('budget_mb')} MB")
    for name, cache in mem.get("caches", {}).items():
        if cache.get("items"):
            print(f"  {name:<28}{cache['items']:>5} items {cache['mb']:>8.1f} MB")
    engine = info.get("engine") or {}
    print(f"  engine: {engine.get('engine')}, {engine.get('instances')} × {engine.get('threads_per_instance')} "
          f"thread(s); memory {engine.get('memory')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=30, help="seconds between memory samples")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for the lab, e.g. LLM_LAB_MALLOC_ARENAS=0 (glibc's heap as it is)")
    args = parser.parse_args()
    base = json.loads(subprocess.run([sys.executable, "-c", LOAD_ALL], capture_output=True, text=True,
                                     check=True).stdout.splitlines()[-1])["rss_mb"]
    proc, url = start_lab(dict(item.split("=", 1) for item in args.env))
    try:
        slugs = list(ACTIONS)
        until = time.perf_counter() + args.minutes * 60
        outs = {slug: {"latency": [], "connect": [], "errors": [], "tokens": []} for slug in slugs}
        threads = []
        for i in range(args.users):
            slug = slugs[i % len(slugs)]
            setup, action = ACTIONS[slug]
            threads.append(threading.Thread(target=_user, args=(url, setup, action, until, i * 2.0, outs[slug]),
                                            daemon=True))
        [t.start() for t in threads]
        start = time.perf_counter()
        curve = []
        while time.perf_counter() < until:
            curve.append((time.perf_counter() - start, rss_mb(proc.pid)))
            print(f"  t={curve[-1][0]:6.0f} s  lab RSS {curve[-1][1]:7.0f} MB", flush=True)
            time.sleep(args.every)
        for t in threads:
            t.join(timeout=240)
        curve.append((time.perf_counter() - start, rss_mb(proc.pid)))
        print(f"\nSoak: {args.users} users over {len(slugs)} apps for {args.minutes:g} min {' '.join(args.env)} "
              f"(baseline: every offline model loaded in one process, {base:.0f} MB)")
        print(f"{'app':<12}{'done':>6}{'errors':>8}{'p50 s':>8}")
        from bench.common import percentile

        for slug, out in outs.items():
            lat = out["latency"]
            print(f"{slug:<12}{len(lat):>6}{len(out['errors']):>8}{percentile(lat, 50) if lat else float('nan'):>8.2f}")
            for e in sorted(set(out["errors"]))[:3]:
                print(f"{'':<12}  error: {e}")
        peak = max(r for _, r in curve)
        print(f"lab RSS at the end {curve[-1][1]:.0f} MB ({curve[-1][1] / base:.2f}× the baseline), "
              f"peak {peak:.0f} MB ({peak / base:.2f}×)")
        _print_memory(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()

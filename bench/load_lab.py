"""Load test: N simulated users drive each app's main action against one lab on loopback.

    python -m bench.load_lab --users 10 40 --seconds 20 [--apps tokenizers,prompts] [--mix tokenizers:5,prompts:10]

Starts ``python -m apps`` on a free loopback port, warms every app once (models load on first
use), then, app by app, runs ``--users`` concurrent gradio_client sessions that repeat the app's
main action until ``--seconds`` have passed (bounded; it stops by itself). Reports throughput,
p50/p95 latency, p95 connect time (page config + API info, what a browser waits for before the page
works) and errors per app; the baseline is one user alone on the same action, same run. ``--mix``
then measures a light app while other users keep the shared model pool busy (does heavy work starve
light work?).
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any, Callable

from bench.common import percentile, wait_until_idle

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SAMPLE = "The quick brown fox 🦊 jumps over the lazy dog — 12.0*50=600, naïve café, 鸟."


def _prompts(c: Any) -> int:
    """12 greedy tokens; returns how many were generated (the app's stats line counts them)."""
    out = c.predict(prompt="Name a colour.", max_new_tokens=12, greedy=True, api_name="/prompts_generate")
    found = re.search(r"<b>(\d+)</b> tokens in", str(out[2]))
    return int(found.group(1)) if found else 0


def _rag_setup(c: Any) -> None:
    c.predict(api_name="/rag_load_builtin")


def _rag(c: Any) -> None:
    c.predict(question="How big is Hubble's primary mirror?", history=[], max_new=24, api_key=None, api_name="/rag_ask")


def _topics_setup(c: Any) -> None:
    c.predict("sample", None, api_name="/topics_load")


def _topics(c: Any) -> None:
    c.predict(text_col="text", min_cluster_size=8, api_name="/topics_run")


def _arena(c: Any) -> None:
    c.predict(prompt="Name a fruit.", room="", api_name="/arena_battle")


ACTIONS: dict[str, tuple[Callable[[Any], None] | None, Callable[[Any], None]]] = {
    "tokenizers": (None, lambda c: c.predict(SAMPLE, ["gpt2", "gpt-4", "llama-3"], None, False,
                                             api_name="/tokenizers_compare")),
    "classifiers": (None, lambda c: c.predict(text="A gorgeous, moving film.", methods=["zeroshot"], file=None,
                                              text_col=None, label_col=None, base_url=None, model=None,
                                              key=None, pick=None, api_name="/classifiers_classify")),
    "topics": (_topics_setup, _topics),
    "prompts": (None, _prompts),
    "rag": (_rag_setup, _rag),
    "vision": (None, lambda c: c.predict(builtins=["cat"], files=None, webcam=None, labels="cat, dog, car",
                                         api_name="/vision_labels")),
    "arena": (None, _arena),
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONNECT_TIMEOUT_S = 120  # a browser waits for a page; gradio_client's 20 s default would count slow pages as failures


def _user(url: str, setup: Callable[[Any], None] | None, action: Callable[[Any], None], until: float,
          delay: float, out: dict[str, list[Any]]) -> None:
    """One simulated participant: arrive after ``delay`` s, connect (timed), then repeat ``action``."""
    from gradio_client import Client

    time.sleep(delay)
    try:
        start = time.perf_counter()
        client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": CONNECT_TIMEOUT_S})
        out["connect"].append(time.perf_counter() - start)
        if setup:
            setup(client)
    except Exception as exc:  # noqa: BLE001 - counted, reported
        out["errors"].append(f"setup: {type(exc).__name__}: {str(exc)[:80]}")
        return
    while time.perf_counter() < until:
        start = time.perf_counter()
        try:
            done = action(client)
            out["latency"].append(time.perf_counter() - start)
            if isinstance(done, int):
                out["tokens"].append(done)
        except Exception as exc:  # noqa: BLE001
            out["errors"].append(f"{type(exc).__name__}: {str(exc)[:80]}")
            time.sleep(0.5)  # a failing action must not spin


def _start(url: str, slug: str, users: int, seconds: float, ramp: float) -> tuple[list[threading.Thread], dict]:
    setup, action = ACTIONS[slug]
    out: dict[str, list[Any]] = {"latency": [], "connect": [], "errors": [], "tokens": []}
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=_user, args=(url, setup, action, until, ramp * i / users, out), daemon=True)
               for i in range(users)]
    [t.start() for t in threads]
    return threads, out


def _finish(threads: list[threading.Thread], out: dict, started: float, seconds: float) -> dict[str, Any]:
    deadline = started + seconds + 180  # in-flight calls may finish late, but the run is bounded
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.perf_counter()))
    elapsed = time.perf_counter() - started
    lat, con = out["latency"], out["connect"]
    nan = float("nan")
    return {"n": len(lat), "throughput": len(lat) / elapsed, "tokens_per_s": sum(out["tokens"]) / elapsed,
            "p50": percentile(lat, 50) if lat else nan, "p95": percentile(lat, 95) if lat else nan,
            "connect_p95": percentile(con, 95) if con else nan, "errors": out["errors"]}


def run(url: str, slug: str, users: int, seconds: float, ramp: float = 0.0) -> dict[str, Any]:
    """``users`` participants arrive over ``ramp`` s and repeat ``slug``'s action for ``seconds``."""
    started = time.perf_counter()
    threads, out = _start(url, slug, users, seconds, ramp)
    return _finish(threads, out, started, seconds)


def run_mixed(url: str, light: str, light_users: int, heavy: str, heavy_users: int, seconds: float,
              ramp: float) -> dict[str, Any]:
    """``light`` measured while ``heavy_users`` keep the model pool busy with ``heavy``."""
    started = time.perf_counter()
    bg_threads, bg_out = _start(url, heavy, heavy_users, seconds + ramp + 5, ramp)
    time.sleep(ramp + 5)  # let the heavy users fill the pool first
    result = run(url, light, light_users, seconds, ramp=0.0)
    _finish(bg_threads, bg_out, started, seconds + ramp + 5)
    return result


def _line(label: str, users: int | str, r: dict[str, Any], base: dict[str, Any]) -> str:
    ratio = r["p50"] / base["p50"] if base["p50"] == base["p50"] and base["p50"] else float("nan")
    line = (f"{label:<12}{users:>8}{r['n']:>6}{r['throughput']:>8.2f}{r['p50']:>8.2f}{r['p95']:>8.2f}"
            f"{ratio:>14.1f}×{r['connect_p95']:>10.1f}{len(r['errors']):>8}")
    if r.get("tokens_per_s"):
        gain = r["tokens_per_s"] / base["tokens_per_s"] if base.get("tokens_per_s") else float("nan")
        line += f"   {r['tokens_per_s']:.1f} tokens/s in total ({gain:.2f}× one user)"
    return line


def start_lab(env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m apps`` on a free loopback port, once its home page answers: (process, URL)."""
    port = _port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "-m", "apps", "--port", str(port)], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=10, help="participants arrive spread over this many seconds")
    parser.add_argument("--apps", default=",".join(ACTIONS))
    parser.add_argument("--client-nice", type=int, default=0,
                        help="run the simulated participants this much nicer than the lab (they share its cores)")
    parser.add_argument("--engine", default="", help="LLM_LAB_ENGINE for the lab (llamacpp | transformers)")
    parser.add_argument("--mix", default="tokenizers:5,prompts:10",
                        help="LIGHT:N,HEAVY:M — light app's latency while M users keep the model pool busy ('' = skip)")
    args = parser.parse_args()
    proc, url = start_lab({"LLM_LAB_ENGINE": args.engine} if args.engine else {})
    if args.client_nice:  # the simulated participants share the lab's cores; in a room they don't
        os.nice(args.client_nice)
    try:
        slugs = [s for s in args.apps.split(",") if s in ACTIONS]
        if args.mix:
            (light, light_n), (heavy, heavy_n) = [(part.split(":")[0], int(part.split(":")[1]))
                                                  for part in args.mix.split(",")]
            slugs = list(dict.fromkeys([*slugs, light, heavy]))
        print(f"lab on {url} (engine: {args.engine or 'auto'}); {args.seconds:g} s per run; users arrive over "
              f"{args.ramp:g} s; baseline = 1 user alone")
        print(f"{'app':<12}{'users':>8}{'done':>6}{'req/s':>8}{'p50 s':>8}{'p95 s':>8}{'p50 vs 1 user':>15}"
              f"{'conn p95':>10}{'errors':>8}")
        bases: dict[str, dict[str, Any]] = {}
        for slug in slugs:
            try:  # warm-up: one call loads the app's models
                from gradio_client import Client

                client = Client(url, verbose=False, download_files=False)
                setup, action = ACTIONS[slug]
                if setup:
                    setup(client)
                action(client)
            except Exception as exc:  # noqa: BLE001
                print(f"{slug:<12} warm-up failed: {type(exc).__name__}: {str(exc)[:100]}")
                continue
            waited = wait_until_idle(proc.pid)  # the lab's start-up warm-ups end before a baseline
            if waited > 5:
                print(f"{'':<12}  (waited {waited:.0f} s for the lab's background warm-ups to finish)")
            bases[slug] = base = run(url, slug, 1, args.seconds)
            for users in [1, *args.users]:
                r = base if users == 1 else run(url, slug, users, args.seconds, args.ramp)
                print(_line(slug, users, r, base), flush=True)
                for e in sorted(set(r["errors"]))[:3]:
                    print(f"{'':<12}  error: {e}")
        if args.mix and light in bases and heavy in bases:
            alone = run(url, light, light_n, args.seconds, args.ramp)
            mixed = run_mixed(url, light, light_n, heavy, heavy_n, args.seconds, args.ramp)
            print(f"\nLight work while the model pool is busy (ratios against {light} with {light_n} users alone)")
            print(_line(light, f"{light_n}", alone, alone))
            print(_line(light, f"{light_n}+{heavy_n}{heavy[0]}", mixed, alone), flush=True)
            for e in sorted(set(mixed["errors"]))[:3]:
                print(f"{'':<12}  error: {e}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()

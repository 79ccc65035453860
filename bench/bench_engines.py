"""Generation engines benchmark: ``python -m bench.bench_engines [--tokens N] [--rounds R]``.

Same process, same GGUF file (the packaged SmolLM2-135M-Instruct Q4_1), same prompt, greedy:

1. baseline: a raw llama-cpp-python call — ``Llama(...).create_completion(ids, stream=True)``;
2. the lab's llama.cpp engine: ``LlamaCppBackend.stream`` (chat template, pool, stop checks) through
   ``timed_stream``;
3. the lab's transformers engine: ``LocalBackend.stream`` (weights de-quantised to fp32) through
   ``timed_stream``.

Tokens/s (output tokens / wall time of the call) and time to first token; rounds are interleaved and
medians reported. Then the pool question, with 2 concurrent requests through the lab's engine:
1 instance × 2 threads (requests take turns) vs 2 instances × 1 thread (one request per core) —
aggregate tokens/s, each request's latency, and a lone request's speed in each layout.
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LLM_LAB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to bake bread."}]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=128, help="max_new_tokens (greedy)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-pool", action="store_true", help="only the single-request comparison")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for the single-request comparison (raw and lab engine alike)")
    args = parser.parse_args(argv)

    import llama_cpp

    from core import loader
    from core.generation import LlamaCppBackend, LocalBackend, SamplingParams, Stats, timed_stream
    from core.generation import llamacpp_engine as lce
    from core.settings import override_settings

    path = loader.gguf_file("chat-smollm2-135m")
    params = SamplingParams(max_new_tokens=args.tokens, greedy=True)
    cores = os.cpu_count() or 1
    print(f"{path.name} ({path.stat().st_size / 2**20:.0f} MB), llama-cpp-python {llama_cpp.__version__}, "
          f"{cores} cores, {args.tokens} greedy tokens, {args.rounds} rounds")

    # ---- single request: raw vs lab llama.cpp vs transformers ------------------------------------
    with override_settings(engine_instances=1, engine_threads=args.threads):
        lab = LlamaCppBackend("chat-smollm2-135m")
        prompt_ids = lab.prompt_ids(lab.render_prompt(STORY))
        t0 = time.perf_counter()
        raw_llm = llama_cpp.Llama(model_path=str(path), n_ctx=lab.pool().n_ctx, n_threads=args.threads,
                                  n_threads_batch=args.threads, verbose=False)
        print(f"raw Llama loaded in {time.perf_counter() - t0:.2f} s; prompt {len(prompt_ids)} tokens")
        hf = LocalBackend("chat-smollm2-135m")
        t0 = time.perf_counter()
        hf.lm()
        print(f"transformers model loaded in {time.perf_counter() - t0:.2f} s")

        def raw() -> tuple[float, float, int]:
            raw_llm.reset()  # like the lab's engine, evaluate the prompt afresh (reproducible runs)
            start = time.perf_counter()
            ttft, n = None, 0
            for chunk in raw_llm.create_completion(list(prompt_ids), max_tokens=args.tokens, temperature=0.0, top_k=1,
                                                   min_p=0.0, top_p=1.0, repeat_penalty=1.0, stream=True):
                if not chunk["choices"][0]["text"]:
                    continue  # the closing chunk carries only the finish reason
                if ttft is None:
                    ttft = time.perf_counter() - start
                n += 1
            seconds = time.perf_counter() - start
            return seconds, ttft or seconds, n

        def through(backend: object) -> tuple[float, float, int]:
            stats = Stats()
            for _ in timed_stream(backend, STORY, params, stats=stats):
                pass
            return stats.seconds, stats.ttft_s or stats.seconds, stats.n_tokens

        paths = {"raw llama-cpp-python": raw, "lab llama.cpp engine": lambda: through(lab),
                 "lab transformers engine": lambda: through(hf)}
        for fn in paths.values():  # warm-up (first calls allocate buffers)
            fn()
        results: dict[str, list[tuple[float, float, int]]] = {k: [] for k in paths}
        cpu: dict[str, list[float]] = {k: [] for k in paths}  # tokens per CPU-second (robust to other load)
        for _ in range(args.rounds):
            for name, fn in paths.items():
                c0 = time.process_time()
                row = fn()
                cpu[name].append(row[2] / max(time.process_time() - c0, 1e-9))
                results[name].append(row)
        raw_llm.close()

    def med(name: str) -> tuple[float, float, int]:
        rows = results[name]
        tps = statistics.median(n / s for s, _, n in rows)
        ttft = statistics.median(t for _, t, _ in rows)
        return tps, ttft, int(statistics.median(n for _, _, n in rows))

    base_tps, base_ttft, _ = med("raw llama-cpp-python")
    print(f"\nSingle request, {args.threads} thread(s) (ratios against raw llama-cpp-python, this run)")
    base_cpu = statistics.median(cpu["raw llama-cpp-python"])
    print(f"  {'path':<28} {'tokens':>6} {'tokens/s':>9} {'× raw':>6} {'TTFT ms':>8} {'Δ TTFT ms':>9} "
          f"{'tok/CPU-s':>9} {'× raw':>6}")
    for name in paths:
        tps, ttft, n = med(name)
        c = statistics.median(cpu[name])
        print(f"  {name:<28} {n:>6} {tps:9.1f} {tps / base_tps:6.2f} {ttft * 1000:8.1f} {(ttft - base_ttft) * 1000:9.1f} "
              f"{c:9.1f} {c / base_cpu:6.2f}")
    lab_tps, hf_tps = med("lab llama.cpp engine")[0], med("lab transformers engine")[0]
    lab_cpu, hf_cpu = statistics.median(cpu["lab llama.cpp engine"]), statistics.median(cpu["lab transformers engine"])
    print(f"  lab llama.cpp / lab transformers: {lab_tps / hf_tps:.2f}× tokens/s, {lab_cpu / hf_cpu:.2f}× tokens per CPU-s")

    # ---- pool layout: 1 × 2 threads vs 2 × 1 thread, 2 concurrent requests ------------------------
    if args.skip_pool:
        return
    layouts = [(1, cores), (cores, 1)] if cores > 1 else [(1, 1)]
    print(f"\nPool layout, 2 concurrent requests of {args.tokens} greedy tokens (lab engine, medians of "
          f"{args.rounds})")
    print(f"  {'layout':<22} {'aggregate tok/s':>15} {'p50 latency s':>13} {'alone tok/s':>11} {'RSS/instance MB':>15}")
    summary = {}
    for instances, threads in layouts:
        with override_settings(engine_instances=instances, engine_threads=threads):
            backend = LlamaCppBackend("chat-smollm2-135m")
            lce.warm("chat-smollm2-135m")
            pool = backend.pool()

            def one(out: list[tuple[float, int]]) -> None:
                stats = Stats()
                for _ in timed_stream(backend, STORY, params, stats=stats):
                    pass
                out.append((stats.seconds, stats.n_tokens))

            for _ in range(instances):  # warm each instance once
                one([])
            aggregate, latency, alone = [], [], []
            for _ in range(args.rounds):
                done: list[tuple[float, int]] = []
                workers = [threading.Thread(target=one, args=(done,)) for _ in range(2)]
                start = time.perf_counter()
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                wall = time.perf_counter() - start
                aggregate.append(sum(n for _, n in done) / wall)
                latency.extend(s for s, _ in done)
                single: list[tuple[float, int]] = []
                one(single)
                alone.append(single[0][1] / single[0][0])
            rss = statistics.mean(m.rss_delta_mb for m in pool.memory()) if pool.memory() else float("nan")
            label = f"{instances} instance(s) × {threads} thread(s)"
            summary[(instances, threads)] = statistics.median(aggregate)
            print(f"  {label:<22} {statistics.median(aggregate):15.1f} {statistics.median(latency):13.2f} "
                  f"{statistics.median(alone):11.1f} {rss:15.0f}")
            mem = pool.memory()[0]
            print(f"    per instance: weights {mem.weights_mb:.0f} MB (mmap'ed, shared), KV cache "
                  f"{mem.kv_cache_mb:.0f} MB (n_ctx {mem.n_ctx})")
    if len(summary) == 2:
        (a, b) = summary.values()
        print(f"  2 × 1 thread / 1 × 2 threads: {b / a:.2f}× aggregate tokens/s")


if __name__ == "__main__":
    main()

"""Prompt Lab benchmark: ``python -m bench.bench_prompts [--tokens N] [--rounds R]``.

Same process, same prompt (the book's chicken joke), same greedy settings, SmolLM2 offline, both
engines side by side:

* llama.cpp (the default on CPU): raw ``Llama.create_completion(stream=True)`` on the same GGUF file
  with the pool's thread count (baseline), the lab's ``LlamaCppBackend.stream`` through
  ``timed_stream``, and the whole app over HTTP (``gradio_client.submit("/prompts_generate")``: prompt
  view, job runner, streaming updates);
* transformers: raw ``model.generate`` in a worker thread (baseline) and ``LocalBackend.stream``;
* constrained (llguidance, the RPG JSON schema; transformers) vs unconstrained decoding.

Rounds are interleaved and medians reported (the machine may be shared). Prints tokens/s, time to
first token and the ratios against each engine's raw baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LLM_LAB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

JOKE = [{"role": "user", "content": "Create a funny joke about chickens."}]
RPG = [{"role": "user", "content": "Create a fantasy RPG character as JSON with fields name, class "
                                   "(warrior or mage) and level."}]
SCHEMA = {"type": "object",
          "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 24},
                         "class": {"type": "string", "enum": ["warrior", "mage"]},
                         "level": {"type": "integer", "minimum": 1, "maximum": 99}},
          "required": ["name", "class", "level"], "additionalProperties": False}
Run = tuple[float, int, float]  # seconds, new tokens, time to first token


def in_thread(fn: Callable[[], Run]) -> Run:
    """Run ``fn`` in a worker thread, like the lab's own calls (the like-for-like baseline)."""
    box: list[Run] = []
    worker = threading.Thread(target=lambda: box.append(fn()))
    worker.start()
    worker.join()
    return box[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=48, help="max_new_tokens (greedy)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompt", default=JOKE[0]["content"],
                        help="the user message (a long answer, e.g. a story, shows streaming rather than start-up cost)")
    args = parser.parse_args(argv)

    import llama_cpp
    import torch

    from core.generation import LlamaCppBackend, LocalBackend, SamplingParams, Stats, timed_stream
    from core.generation.llamacpp_engine import sampling_kwargs
    from core.prompts import constrained as cons

    params = SamplingParams(max_new_tokens=args.tokens, greedy=True)
    chat = [{"role": "user", "content": args.prompt}]
    llama = LlamaCppBackend("chat-smollm2-135m")
    pool = llama.pool()
    ids = llama.prompt_ids(llama.render_prompt(chat))
    raw_llm = llama_cpp.Llama(model_path=str(pool.path), n_ctx=pool.n_ctx, n_threads=pool.threads,
                              n_threads_batch=pool.threads, verbose=False)
    print(f"llama.cpp {llama_cpp.__version__} on {pool.path.name}: {pool.threads} threads, {pool.instances} "
          f"instance(s) in the pool")
    backend = LocalBackend("chat-smollm2-135m")
    lm = backend.lm()
    tok = lm.tokenizer
    print(f"transformers SmolLM2-135M-Instruct (fp32); torch threads {torch.get_num_threads()}")
    enc = tok(backend.render_prompt(chat), return_tensors="pt", add_special_tokens=False)
    n_prompt = enc["input_ids"].shape[1]

    def raw_llama() -> Run:  # like the lab's engine, it evaluates the prompt afresh (reproducible runs)
        raw_llm.reset()
        start, ttft, n = time.perf_counter(), float("nan"), 0
        for _chunk in raw_llm.create_completion(list(ids), stream=True, **sampling_kwargs(params)):
            if n == 0:
                ttft = time.perf_counter() - start
            n += 1
        return time.perf_counter() - start, n, ttft

    def raw_hf() -> Run:
        start = time.perf_counter()
        with torch.inference_mode():
            out = lm.model.generate(**enc, max_new_tokens=args.tokens, do_sample=False,
                                    pad_token_id=tok.eos_token_id)
        return time.perf_counter() - start, int(out.shape[1] - n_prompt), float("nan")

    def core(engine: object) -> Run:
        stats = Stats()
        for _ in timed_stream(engine, chat, params, stats=stats):
            pass
        return stats.seconds, stats.n_tokens, stats.ttft_s or float("nan")

    # the app over HTTP (its factory picks llama.cpp on CPU)
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs, standalone
    from apps.prompts import app as prompt_lab
    from tests.conftest import free_port

    blocks = standalone(prompt_lab.build, "prompts", prompt_lab.CSS)
    configure_queue(blocks)
    blocks.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                  **launch_kwargs(prompt_lab.CSS))
    client = Client(blocks.local_url, verbose=False, download_files=False)
    ui_args = ["Local model", "chat-smollm2-135m", "", "", "", "", chat[0]["content"], False, [],
               0.7, 1.0, 50, args.tokens, 1.0, 0, True]

    def app() -> Run:
        start = time.perf_counter()
        ttft = float("nan")
        job = client.submit(*ui_args, api_name="/prompts_generate")
        for update in job:
            if ttft != ttft and isinstance(update[1], str) and update[1]:
                ttft = time.perf_counter() - start
        total = time.perf_counter() - start
        return total, llama.count_tokens(job.result()[1]), ttft

    paths = {"raw_llama": lambda: in_thread(raw_llama), "core_llama": lambda: core(llama), "app": app,
             "raw_hf": lambda: in_thread(raw_hf), "core_hf": lambda: core(backend)}
    for fn in paths.values():  # warm-up (first-call allocations, caches, server routes)
        fn()
    runs: dict[str, list[Run]] = {k: [] for k in paths}
    for _ in range(args.rounds):
        for name, fn in paths.items():
            runs[name].append(fn())
    blocks.close()
    raw_llm.close()

    def tps(name: str) -> float:
        return statistics.median(n / s for s, n, _ in runs[name])

    def ttft(name: str) -> str:
        t = statistics.median(t for _, _, t in runs[name])
        return "—" if t != t else f"{t * 1000:.0f}"

    print(f"\nStreaming throughput, greedy, {runs['raw_llama'][-1][1]} new tokens after a {len(ids)}-token prompt, "
          f"median of {args.rounds} interleaved rounds")
    print(f"  {'path':<46} {'tokens/s':>9} {'TTFT ms':>9} {'vs raw':>8}")
    rows = [("llama.cpp raw create_completion (baseline)", "raw_llama", "raw_llama"),
            ("llama.cpp lab core: LlamaCppBackend.stream", "core_llama", "raw_llama"),
            ("llama.cpp lab app over HTTP (gradio_client)", "app", "raw_llama"),
            ("transformers raw generate, thread (baseline)", "raw_hf", "raw_hf"),
            ("transformers lab core: LocalBackend.stream", "core_hf", "raw_hf")]
    for label, name, base in rows:
        print(f"  {label:<46} {tps(name):9.2f} {ttft(name):>9} {tps(name) / tps(base):8.2f}×")
    print(f"  llama.cpp vs transformers, lab core: {tps('core_llama') / tps('core_hf'):.1f}× tokens/s")

    # constrained vs unconstrained decoding (same prompt; tokens/s since output lengths differ)
    c = cons.Constraint("json", json.dumps(SCHEMA))
    p = SamplingParams(max_new_tokens=40, greedy=True)
    cons.logits_processor(c, backend.model_name)  # compile once (grammar + llguidance tokenizer)

    def decode(constrained: bool) -> tuple[float, int, float, str]:
        stats = Stats()
        kw = {"logits_processors": [cons.logits_processor(c, backend.model_name)]} if constrained else {}
        text = "".join(timed_stream(backend, RPG, p, stats=stats, **kw))
        return stats.seconds, stats.n_tokens, stats.ttft_s or float("nan"), text

    decode(True)
    decode(False)
    free, forced = [], []
    for _ in range(args.rounds):
        free.append(decode(False))
        forced.append(decode(True))
    f_tps = statistics.median(n / s for s, n, _, _ in free)
    c_tps = statistics.median(n / s for s, n, _, _ in forced)
    f_valid = cons.validate(free[-1][3], c).ok
    c_valid = cons.validate(forced[-1][3], c).ok
    print("\nConstrained decoding (llguidance JSON Schema) vs unconstrained, greedy, RPG prompt")
    print(f"  {'mode':<44} {'tokens/s':>9} {'tokens':>7} {'schema-valid':>13}")
    print(f"  {'unconstrained (baseline)':<44} {f_tps:9.2f} {free[-1][1]:7d} {str(f_valid):>13}")
    print(f"  {'constrained (llguidance mask every step)':<44} {c_tps:9.2f} {forced[-1][1]:7d} {str(c_valid):>13}"
          f"   {c_tps / f_tps:.2f}× speed")
    print(f"  constrained output: {forced[-1][3]}")


if __name__ == "__main__":
    main()

"""Fine-tuning on this CPU at the tabs' defaults, on the built-in data (issue 20).

encoder:  MiniLM + classification head vs embeddings + LR (same split, same run), minutes per run.
embedder: MNR on same-label Rotten Tomatoes triplets, held-out hit@1/hit@5/MRR before and after.
dpo:      DPO LoRA on the built-in preference pairs: held-out reward margin and accuracy, answer
          length, and the win rate against the base model judged by the lab's judge (core/arena/judge.py)
          in both orders on the held-out prompts.

python -m bench.bench_training [--only encoder,embedder,dpo] [--steps N] [--judge-prompts N]
                               [--judge-base-url URL --judge-model M]  (a judge on an OpenAI-compatible server;
                                                                          the key from OPENAI_API_KEY)
"""
from __future__ import annotations

import argparse
import os
import time

from bench import common  # noqa: F401 - sets the offline environment

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def bench_encoder(steps: int | None) -> None:
    from core.classifiers.data import builtin
    from core.classifiers.evaluate import evaluate
    from core.classifiers.methods import ZooConfig
    from core.training.encoder import DEFAULTS, train_encoder

    data = builtin()
    t0 = time.perf_counter()
    run = train_encoder(data, steps=steps or DEFAULTS["steps"])
    took = time.perf_counter() - t0
    t1 = time.perf_counter()
    config = ZooConfig(descriptions=dict(data.descriptions), words=dict(data.words))
    base = {r.key: r.metrics.f1 for r in evaluate(data, ["embed_lr"], config).ok()}
    print(f"encoder: fine-tuned MiniLM F1 {run.f1:.3f} (acc {run.accuracy:.3f}) vs embeddings+LR F1 "
          f"{base.get('embed_lr', float('nan')):.3f} on {len(data.test_texts)} test texts; {run.steps} steps in "
          f"{took / 60:.1f} min (LR baseline {time.perf_counter() - t1:.0f} s); trainable {run.trainable:,}/{run.total:,}; "
          f"{load_note()}", flush=True)


def bench_embedder(steps: int | None) -> None:
    from core.training.data import builtin_pairs
    from core.training.embedder import DEFAULTS, train_embedder

    pairs = builtin_pairs()
    t0 = time.perf_counter()
    run = train_embedder(pairs, steps=steps or DEFAULTS["steps"])
    print(f"embedder: before {run.before.line()} → after {run.after.line()}; {run.steps} steps in "
          f"{(time.perf_counter() - t0) / 60:.1f} min; {load_note()}", flush=True)


def bench_dpo(steps: int | None, judge_prompts: int, judge_base_url: str = "", judge_model: str = "") -> None:
    from core.arena.judge import judge_pair
    from core.generation import LOCAL, REMOTE, SamplingParams, make_backend
    from core.settings import get_settings
    from core.training import preference as P
    from core.training.data import builtin_preferences

    data = builtin_preferences()
    t0 = time.perf_counter()
    model, tok = P.start_model()
    run = P.train_dpo(data.train, model, tok, steps=steps or P.DPO_DEFAULTS["steps"], held_out=data.held_out)
    took = time.perf_counter() - t0
    ho = run.held_out
    print(f"dpo: held-out reward margin {ho.get('margin', 0):.3f}, chosen wins {ho.get('accuracy', 0):.0%} of "
          f"{int(ho.get('n', 0))} pairs; last-step margin {run.curve.last('rewards/margins') or 0:.3f}; {run.steps} "
          f"steps in {took / 60:.1f} min; trainable {run.trainable:,}/{run.total:,}; {load_note()}", flush=True)
    base, btok = P.load_base()
    if judge_base_url:
        judge = make_backend(REMOTE, base_url=judge_base_url, model=judge_model, api_key=get_settings().openai.api_key)
        judge_name = f"{judge_model or 'the server default'} at {judge_base_url}"
    else:
        judge = make_backend(LOCAL, "chat-smollm2-135m")
        judge_name = "SmolLM2-135M"
    params = SamplingParams(max_new_tokens=192, greedy=True, temperature=1.0)
    wins = losses = ties = other = 0
    len_base = len_tuned = 0
    for row in data.held_out[:judge_prompts]:
        a = P.generate(run.model, run.tokenizer, row["prompt"], 96)
        b = P.generate(base, btok, row["prompt"], 96)
        len_tuned, len_base = len_tuned + len(a), len_base + len(b)
        j = judge_pair(judge, row["prompt"], a, b, params)
        wins += j.final == "model_a"
        losses += j.final == "model_b"
        ties += j.final == "tie"
        other += j.final in ("inconsistent", "error")
    n = max(1, min(judge_prompts, len(data.held_out)))
    print(f"dpo judge ({judge_name} via the arena judge, both orders): DPO wins {wins}, base wins {losses}, ties {ties}, "
          f"inconsistent/error {other} of {n} held-out prompts; mean answer length DPO {len_tuned / n:.0f} vs base "
          f"{len_base / n:.0f} chars; {load_note()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="encoder,embedder,dpo")
    parser.add_argument("--steps", type=int, default=None, help="override the default steps of every run")
    parser.add_argument("--judge-prompts", type=int, default=8)
    parser.add_argument("--judge-base-url", default="", help="judge on this OpenAI-compatible server (default: SmolLM2)")
    parser.add_argument("--judge-model", default="")
    args = parser.parse_args(argv)
    runs = {"encoder": lambda: bench_encoder(args.steps), "embedder": lambda: bench_embedder(args.steps),
            "dpo": lambda: bench_dpo(args.steps, args.judge_prompts, args.judge_base_url, args.judge_model)}
    for part in args.only.split(","):
        runs[part.strip()]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

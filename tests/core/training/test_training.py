"""core.training on tiny models built from configs (no download): each trainer changes the weights
and moves its metric the expected way on an easy case; a stopped run stops and frees its slot;
malformed data gets a clear message; the PEFT numbers (and the book's GPT-3 example) add up."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core import jobs
from core.errors import LabError
from core.training import data as D
from core.training.params import count_parameters, gpt3_example, lora_matrix, peft_counts
from tests.core.training.tiny import tiny_bert_folder, tiny_causal_lm, tiny_sentence_transformer

GOOD = ["a wonderful, great film", "great acting and a wonderful story", "wonderful, simply great", "great fun, wonderful"]
BAD = ["an awful, terrible film", "terrible acting and an awful story", "awful, simply terrible", "terrible, awful mess"]


def easy_data() -> Any:
    from core.classifiers.data import LabelledData

    train = [(t, "pos") for t in GOOD * 4] + [(t, "neg") for t in BAD * 4]
    test = [(t, "pos") for t in GOOD] + [(t, "neg") for t in BAD]
    return LabelledData("easy", [t for t, _ in train], [c for _, c in train], [t for t, _ in test],
                        [c for _, c in test], ["neg", "pos"])


# ------------------------------------------------------------------------------- PEFT numbers
def test_gpt3_example_honest_breakdown() -> None:
    ex = gpt3_example()
    assert ex.matrix.full == 12_288 ** 2 == 150_994_944
    assert ex.matrix.a == ex.matrix.b == 98_304  # the book's "≈98K" is one factor
    assert ex.matrix.lora == 196_608
    assert any("196,608" in line and "98,304" in line for line in ex.lines())
    assert lora_matrix(10, 10, 1).lora == 20  # the book's 10×10 → two rank-1 factors


def test_lora_count_matches_peft_on_a_real_model() -> None:
    from peft import LoraConfig, get_peft_model

    model, _ = tiny_causal_lm()
    counts = peft_counts(model, rank=4, targets=("q_proj", "v_proj"))
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                  task_type="CAUSAL_LM"))
    trainable, _ = count_parameters(peft_model)
    assert counts.lora == trainable and counts.lora_matrices == 4
    assert counts.prompt_tuning == 20 * 32 and counts.prefix_tuning == 20 * 2 * 2 * 32
    assert [r[0] for r in counts.rows()][0] == "full fine-tuning"


# ------------------------------------------------------------------------------- data refusals
def test_malformed_preference_data_gets_clear_messages() -> None:
    with pytest.raises(LabError, match="Row 2 .* no 'rejected'"):
        D.check_preferences([{"prompt": "p", "chosen": "a", "rejected": "b"}, {"prompt": "p", "chosen": "a"}])
    with pytest.raises(LabError, match="Line 2 .* not valid JSON"):
        D.parse_jsonl('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{oops')
    with pytest.raises(LabError, match="not an object"):
        D.check_preferences(["just text"])
    rows = [{"prompt": f"p{i}", "chosen": "a", "rejected": "b"} for i in range(3)]
    with pytest.raises(LabError, match="3 usable preference pair.*at least 9"):
        D.preference_data(rows, "the votes of room X")
    with pytest.raises(LabError, match="is empty"):
        D.parse_jsonl("  ")


def test_pairs_refuse_too_little_or_one_class() -> None:
    with pytest.raises(LabError, match="at least two classes"):
        D.labelled_pairs(["a", "b", "c"], ["x", "x", "x"])
    with pytest.raises(LabError, match="training pairs"):
        D.labelled_pairs([f"text {i}" for i in range(10)], ["x", "y"] * 5, n_eval=4)


def test_builtin_data_loads() -> None:
    prefs = D.builtin_preferences()
    assert len(prefs.train) >= 30 and prefs.held_out and prefs.sft()[0]["completion"] == prefs.train[0]["chosen"]
    rag = D.rag_pairs()
    assert len(rag.train) >= 8 and all(g in rag.corpus for g in rag.eval_groups)


# ------------------------------------------------------------------------------- trainers
def test_encoder_learns_an_easy_split_and_freezing_freezes(tmp_path: Path) -> None:
    import torch

    from core.training.encoder import freeze, load_classifier, train_encoder

    base = str(tiny_bert_folder(tmp_path / "bert"))
    run = train_encoder(easy_data(), base=base, steps=25, lr=5e-3, batch=8, measure_before=True)
    assert run.f1 >= 0.85 and run.f1 > (run.f1_before or 0)
    assert run.curve.series("loss")[1] and run.trainable == run.total
    model, _ = load_classifier(base, ["neg", "pos"])
    first = [p.clone() for p in model.bert.encoder.layer[0].parameters()]
    assert freeze(model, 1) == 1
    frozen_trainable, total = count_parameters(model)
    assert frozen_trainable < total
    assert freeze(model, 0, head_only=True) == 2
    head, _ = count_parameters(model)
    assert head == sum(p.numel() for p in model.classifier.parameters())
    assert all(torch.equal(a, b) for a, b in zip(first, model.bert.encoder.layer[0].parameters()))


def test_embedder_contrastive_training_moves_hit_at_1(tmp_path: Path) -> None:
    import torch

    from core.training.embedder import load_embedder, train_embedder

    base = str(tiny_sentence_transformer(tmp_path))
    before_w = [p.clone() for p in load_embedder(base).parameters()]
    pos, neg = [f"great wonderful {w}" for w in "abcdefghijkl"], [f"awful terrible {w}" for w in "abcdefghijkl"]
    pairs = D.labelled_pairs(pos + neg, ["pos"] * 12 + ["neg"] * 12, n_train=16, n_eval=8, seed=1)
    run = train_embedder(pairs, base=base, steps=15, lr=1e-3, batch=8)
    assert run.after.hits[1] >= run.before.hits[1] and run.after.mrr >= run.before.mrr - 1e-9
    assert run.after.hits[1] >= 0.75
    assert any(not torch.equal(a, b) for a, b in zip(before_w, run.model.parameters()))


PAIRS = [{"prompt": f"Question {i}: what is {w}?", "chosen": f"{w} is short.",
          "rejected": "Well, that is a long and winding story with many many words " * 2} for i, w in
         enumerate(["red", "blue", "green", "tea", "rain", "snow", "sun", "moon"])]


def test_sft_lowers_the_loss_and_dpo_opens_a_reward_margin() -> None:
    from core.training.preference import answer_logp, train_dpo, train_sft

    model, tok = tiny_causal_lm()
    sft = train_sft([{"prompt": p["prompt"], "completion": p["chosen"]} for p in PAIRS], model, tok, rank=4,
                    alpha=8, steps=8, lr=5e-3, batch=4, max_length=64)
    losses = sft.curve.series("loss")[1]
    assert len(losses) >= 6 and min(losses[-3:]) < losses[0]
    assert Path(sft.adapter_dir, "adapter_config.json").exists() and sft.trainable < sft.total
    model2, tok2 = tiny_causal_lm()
    def gap(m: Any) -> float:
        return (answer_logp(m, tok2, PAIRS[0]["prompt"], PAIRS[0]["chosen"])
                - answer_logp(m, tok2, PAIRS[0]["prompt"], PAIRS[0]["rejected"]))

    before = gap(model2)
    dpo = train_dpo(PAIRS, model2, tok2, rank=4, alpha=8, beta=0.1, steps=8, lr=5e-3, batch=4, max_length=96,
                    held_out=PAIRS[:3])
    margins = dpo.curve.series("rewards/margins")[1]
    assert margins and margins[-1] > 0 and dpo.held_out["margin"] > 0 and dpo.held_out["accuracy"] >= 2 / 3
    assert gap(dpo.model) > before  # the merged weights changed: chosen gained on rejected


# ------------------------------------------------------------------------------- stop frees the slot
def test_stopped_run_stops_within_seconds_and_frees_its_slot(tmp_path: Path) -> None:
    from apps.common.jobs import run_job
    from core.training.callbacks import Curve, stream_training
    from core.training.encoder import train_encoder

    base = str(tiny_bert_folder(tmp_path / "bert"))
    data = easy_data()

    def fn() -> Any:
        curve = Curve()
        for item in stream_training(lambda: train_encoder(data, base=base, steps=100_000, lr=1e-4, batch=8,
                                                          curve=curve), curve, every_s=0.2):
            yield str(item.step if isinstance(item, Curve) else "done")

    jobs._POOL = jobs.ModelPool(1)
    handler = run_job(fn, 1, "test", "train", expect_s=5)
    seen: list[Any] = []

    async def drive() -> float:
        stopped_at = None
        async for out in handler():
            seen.append(out)
            running = jobs.pool()._running
            if stopped_at is None and running and out[0] not in (None,) and str(out[0]).isdigit() and int(out[0]) >= 2:
                running[0].stop("stopped by you")
                stopped_at = time.monotonic()
        return time.monotonic() - (stopped_at or time.monotonic())

    import concurrent.futures

    # its own thread and event loop: a browser test earlier in the session may leave a loop running here
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        took = pool.submit(asyncio.run, asyncio.wait_for(drive(), 120)).result()
    try:
        assert took < 5.0
        assert "Stopped" in str(seen[-1][-1]) and jobs.pool().snapshot()["running"] == []
    finally:
        jobs._POOL = None


def test_stream_training_reraises_errors() -> None:
    from core.training.callbacks import Curve, stream_training

    def boom() -> None:
        raise LabError("bad data")

    with pytest.raises(LabError, match="bad data"):
        list(stream_training(boom, Curve(), every_s=0.05))
    assert threading.active_count() >= 1

"""Fine-tune an encoder with a classification head (book ch. 11, §11.1).

Offline the base is the packaged MiniLM (all-MiniLM-L6-v2: a 6-block BERT); with the Hub it is the
book's ``bert-base-cased`` (12 blocks). "Freeze the first N blocks" freezes the embeddings and the
first N transformer blocks (the book's "parameter index < 165" is bert-base's embeddings plus its
first 10 blocks); "head only" trains just the classifier (the book: 0.63 F1, all layers 0.85).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from core import jobs
from core.errors import LabError
from core.settings import get_settings
from core.training.callbacks import Curve, job_callback, quiet, training_args_common
from core.training.data import cap_examples, cap_steps

HUB_BASE = "bert-base-cased"
DEFAULTS = {"steps": 40, "lr": 2e-4, "batch": 16, "max_length": 64, "freeze": 0}


@dataclass
class EncoderRun:
    base: str
    f1: float
    accuracy: float
    f1_before: float | None
    trainable: int
    total: int
    blocks: int
    frozen_blocks: int
    head_only: bool
    steps: int
    seconds: float
    curve: Curve
    model: Any = field(repr=False, default=None)
    tokenizer: Any = field(repr=False, default=None)
    metrics: Any = field(repr=False, default=None)
    notes: list[str] = field(default_factory=list)


def base_name() -> str:
    """The base encoder of this mode: the packaged MiniLM folder offline, ``bert-base-cased`` on the Hub."""
    if get_settings().offline:
        from core.assets import asset_dir

        return str(asset_dir("minilm"))
    return HUB_BASE


def load_classifier(base: str | None, classes: Sequence[str]) -> tuple[Any, Any]:
    """(model with a fresh ``num_labels`` head, tokenizer) from a folder or Hub id."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = base or base_name()
    id2label = dict(enumerate(classes))
    try:
        tok = AutoTokenizer.from_pretrained(base)
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(classes), id2label=id2label, label2id={v: k for k, v in id2label.items()})
    except OSError as exc:
        raise LabError(f"Could not load the encoder {base}: {exc}".split("\n")[0]) from None
    return model, tok


def blocks_of(model: Any) -> Any:
    """The transformer blocks (``encoder.layer``) of a BERT-style classifier."""
    base = getattr(model, model.base_model_prefix, model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        raise LabError("This model has no encoder.layer blocks to freeze.")
    return layers


def freeze(model: Any, n_blocks: int = 0, head_only: bool = False) -> int:
    """Freeze the embeddings and the first ``n_blocks`` blocks (or everything but the head); the
    number of blocks frozen."""
    layers = blocks_of(model)
    base = getattr(model, model.base_model_prefix, model)
    n = len(layers) if head_only else max(0, min(int(n_blocks), len(layers)))
    for p in model.parameters():
        p.requires_grad = True
    if n or head_only:
        for p in base.embeddings.parameters():
            p.requires_grad = False
    for layer in list(layers)[:n]:
        for p in layer.parameters():
            p.requires_grad = False
    if head_only and getattr(base, "pooler", None) is not None:
        for p in base.pooler.parameters():
            p.requires_grad = False
    return n


def predict(model: Any, tok: Any, texts: Sequence[str], max_length: int = 64, batch: int = 64) -> list[int]:
    """Class indices for ``texts`` (stop-checked between batches)."""
    import torch

    model.eval()
    out: list[int] = []
    for _, chunk in jobs.batches(list(texts), batch, "evaluating"):
        enc = tok(list(chunk), truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        enc = {k: v.to(model.device) for k, v in enc.items()}
        with torch.no_grad():
            out += model(**enc).logits.argmax(-1).tolist()
    return out


def train_encoder(data: Any, base: str | None = None, freeze_blocks: int = 0, head_only: bool = False,
                  steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"], batch: int = DEFAULTS["batch"],
                  max_length: int = DEFAULTS["max_length"], curve: Curve | None = None, measure_before: bool = False,
                  seed: int = 42) -> EncoderRun:
    """Fine-tune on ``data`` (:class:`core.classifiers.data.LabelledData`) and score its test split."""
    import torch
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

    from core.classifiers import metrics as M
    from core.training.params import count_parameters

    if len(data.classes) < 2:
        raise LabError("A classifier needs at least two classes in the training data.")
    if len(data.train_texts) < 2 * len(data.classes) or len(data.test_texts) < 2:
        raise LabError(f"Only {len(data.train_texts)} training and {len(data.test_texts)} test texts: too few "
                       "to fine-tune and measure anything.")
    started = time.perf_counter()
    curve = curve or Curve()
    set_seed(seed)
    steps = cap_steps(steps)
    jobs.report(0.0, "loading the encoder")
    model, tok = load_classifier(base, data.classes)
    frozen = freeze(model, freeze_blocks, head_only)
    trainable, total = count_parameters(model)
    index = {c: i for i, c in enumerate(data.classes)}
    n = cap_examples(len(data.train_texts))
    enc = tok(data.train_texts[:n], truncation=True, max_length=max_length)
    ds = Dataset.from_dict({**enc, "labels": [index[lab] for lab in data.train_labels[:n]]})

    def score() -> Any:
        pred = predict(model, tok, data.test_texts, max_length)
        return M.compute(data.test_labels, [data.classes[i] for i in pred], data.classes)

    before = score().f1 if measure_before else None
    with tempfile.TemporaryDirectory(prefix="lab-encoder-") as out:
        args = TrainingArguments(**training_args_common(steps, batch, lr, out, seed), weight_decay=0.01)
        trainer = Trainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok),
                          callbacks=[job_callback(curve, what="fine-tuning")])
        torch.manual_seed(seed)
        quiet(trainer).train()
    jobs.check_stop()
    metrics = score()
    return EncoderRun(base or base_name(), metrics.f1, metrics.accuracy, before, trainable, total,
                      len(blocks_of(model)), frozen, head_only, curve.step, time.perf_counter() - started, curve,
                      model, tok, metrics,
                      notes=[f"{n} training texts, {len(data.test_texts)} test texts; {curve.step} steps of batch "
                             f"{batch}, lr {lr:g}, max {max_length} tokens."])

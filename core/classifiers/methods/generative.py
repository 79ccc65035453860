"""Generative prompt (book §4.5). Offline SmolLM2-135M-Instruct, Hub flan-t5-small.

Two paths:

* **calibrated** (default offline) and the Hub's flan-t5: transformers, because the first-token logits
  of each answer word are the point (contextual calibration, the fallback for an unparsed reply);
* **text only** (calibration off, offline): the reply through :func:`core.generation.make_backend`,
  i.e. the lab's default engine (llama.cpp on CPU), parsed by :func:`~.prompt.parse_reply`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from core.classifiers.data import LabelledData
from core.classifiers.methods.base import (UNPARSED, Method, MethodInfo, Predictions, Progress, ZooConfig, _noop,
                                           check_stop, softmax)
from core.classifiers.methods.prompt import DEFAULT_PROMPT, fill_prompt, parse_reply
from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings

_PRIORS: dict[tuple[Any, ...], np.ndarray] = {}


def _gen_duration(model_name: str, prompts: Sequence[str], *a: Any, **k: Any) -> int:
    return estimate_duration(len(prompts), per_unit_s=0.05, base_s=5)


@gpu_task(duration=_gen_duration)
def _generate_batch(model_name: str, prompts: Sequence[str], first_ids: Sequence[Sequence[int]],
                    max_new_tokens: int = 4) -> tuple[list[str], np.ndarray]:
    """Greedy replies and, per prompt, the logits of each class's first tokens at the first step."""
    import torch

    from core.loader import load

    lm = load(model_name)
    tok = lm.tokenizer
    seq2seq = bool(getattr(lm.model.config, "is_encoder_decoder", False))
    kwargs: dict[str, Any] = {"return_tensors": "pt", "padding": True, "truncation": True, "max_length": 512}
    if not seq2seq:
        kwargs["add_special_tokens"] = False
        kwargs["padding_side"] = "left"
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    enc = tok(list(prompts), **kwargs).to(lm.model.device)
    with torch.inference_mode():
        out = lm.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, output_scores=True,
                                return_dict_in_generate=True, pad_token_id=pad, temperature=None, top_p=None,
                                top_k=None)
    first = out.scores[0].float().cpu()  # (batch, vocab)
    logits = np.stack([first[:, list(ids)].max(dim=1).values.numpy() for ids in first_ids], axis=1)
    new = out.sequences if seq2seq else out.sequences[:, enc["input_ids"].shape[1]:]
    replies = tok.batch_decode(new, skip_special_tokens=True)
    return [r.strip() for r in replies], logits


class GenerativeMethod(Method):
    key = "generative"
    batch_size = 16

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        super().__init__(data, config)
        self.words = [config.words.get(c) or data.words.get(c) or c for c in self.classes]
        self.template = config.prompt or DEFAULT_PROMPT
        fill_prompt(self.template, "x", self.words)  # validate early
        if get_settings().offline:
            self.lm_name, self.chat = "chat-smollm2-135m", True
        else:
            self.lm_name, self.chat = "text2text-flan-t5-small", False
        self.text_only = self.chat and not config.calibrate
        from core import catalogue

        self.model_name = catalogue.get(self.lm_name).display(get_settings().mode)
        if self.text_only:
            from core.generation import engine_name

            self.model_name += f" on {engine_name(self.lm_name)}"

    def _backend(self, need_logits: bool) -> Any:
        from core.generation import LOCAL, make_backend

        return make_backend(LOCAL, self.lm_name, need_logits=need_logits)

    def _first_ids(self) -> list[list[int]]:
        from core.loader import load

        tok = load(self.lm_name).tokenizer
        ids = []
        for w in self.words:
            variants = {w, w.lower(), w.capitalize(), " " + w, " " + w.lower(), " " + w.capitalize()}
            first = {t[0] for v in variants if (t := tok(v, add_special_tokens=False)["input_ids"])}
            ids.append(sorted(first))
        return ids

    def render(self, text: str) -> str:
        content = fill_prompt(self.template, text[:2000], self.words)
        if not self.chat:
            return content
        return self._backend(True).render_prompt([{"role": "user", "content": content}])

    def _prior(self, first_ids: list[list[int]]) -> np.ndarray:
        """Class probabilities for a content-free input ("N/A"): the model's bias, divided out when
        ``calibrate`` is on (contextual calibration, Zhao et al. 2021)."""
        key = (self.lm_name, self.template, tuple(self.words))
        if key not in _PRIORS:
            _, logits = _generate_batch(self.lm_name, [self.render("N/A")], first_ids, max_new_tokens=1)
            _PRIORS[key] = softmax(logits, axis=1)[0]
        return _PRIORS[key]

    def _predict_text(self, texts: list[str], progress: Progress) -> Predictions:
        from core.generation import SamplingParams

        backend = self._backend(False)
        params = SamplingParams(max_new_tokens=4, greedy=True)
        labels, raw, rows = [], [], []
        for i, text in enumerate(texts):
            if i % 8 == 0:
                check_stop()
                progress(i / max(1, len(texts)), f"prompting {i:,}/{len(texts):,}")
            reply = backend.generate([{"role": "user", "content": fill_prompt(self.template, text[:2000],
                                                                               self.words)}], params).strip()
            parsed = parse_reply(reply, self.words, self.classes)
            row = np.full(len(self.classes), 1.0 / len(self.classes))
            if parsed is not None:
                row = np.zeros(len(self.classes))
                row[self.classes.index(parsed)] = 1.0
            labels.append(parsed if parsed is not None else UNPARSED)
            raw.append(reply)
            rows.append(row)
        return Predictions(labels, np.array(rows).reshape(len(texts), len(self.classes)), raw,
                           said=list(labels))

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        texts = list(texts)
        if self.text_only:
            return self._predict_text(texts, progress)
        first_ids = self._first_ids()
        calibrate = self.config.calibrate
        prior = self._prior(first_ids) if calibrate else None
        labels, raw, rows, said = [], [], [], []
        for start in range(0, len(texts), self.batch_size):
            check_stop()
            progress(start / max(1, len(texts)), f"prompting {start:,}/{len(texts):,}")
            batch = texts[start:start + self.batch_size]
            replies, logits = _generate_batch(self.lm_name, [self.render(t) for t in batch], first_ids,
                                              max_new_tokens=3)
            scores = softmax(logits, axis=1)
            if prior is not None:
                scores = scores / prior
                scores = scores / scores.sum(axis=1, keepdims=True)
            for reply, row in zip(replies, scores):
                parsed = parse_reply(reply, self.words, self.classes)
                said.append(parsed if parsed is not None else UNPARSED)
                if calibrate:
                    labels.append(self.classes[int(row.argmax())])
                    raw.append(f"{reply!r} → calibrated first-token scores")
                else:
                    labels.append(parsed if parsed is not None else self.classes[int(row.argmax())])
                    raw.append(reply if parsed is not None else f"{reply!r} → fallback: first-token scores")
                rows.append(row)
        return Predictions(labels, np.array(rows).reshape(len(texts), len(self.classes)), raw, said=said)


INFO = MethodInfo("generative", "Generative prompt", 0.84, "flan-t5-small, 'Is the following sentence positive or "
                  "negative?'", False, "SmolLM2-135M-Instruct", "flan-t5-small", GenerativeMethod)

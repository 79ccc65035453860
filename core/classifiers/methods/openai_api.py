"""Any OpenAI-compatible chat model (the book's ChatGPT, §4.5): base URL, model and key from the session."""
from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from core.classifiers.data import LabelledData
from core.classifiers.methods.base import (UNPARSED, Method, MethodInfo, Predictions, Progress, ZooConfig, _noop,
                                           check_stop)
from core.classifiers.methods.prompt import DEFAULT_PROMPT, fill_prompt, parse_reply
from core.errors import BackendError, LabError


class OpenAIMethod(Method):
    key = "openai"
    system = "You are a helpful assistant."

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        super().__init__(data, config)
        if not config.openai_base_url.strip():
            raise LabError("No OpenAI-compatible endpoint is set: enter a base URL (and key, model) to use it.")
        if not config.openai_model.strip():
            raise LabError("Enter the model name to use on the OpenAI-compatible server.")
        self.words = [config.words.get(c) or data.words.get(c) or c for c in self.classes]
        self.template = config.prompt or DEFAULT_PROMPT
        fill_prompt(self.template, "x", self.words)
        self.model_name = f"{config.openai_model} (OpenAI-compatible)"

    def _backend(self) -> Any:
        from core.generation import REMOTE, make_backend

        return make_backend(REMOTE, base_url=self.config.openai_base_url, model=self.config.openai_model,
                            api_key=self.config.openai_key, system_prompt=self.system)

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        from concurrent.futures import ThreadPoolExecutor

        from core.generation import SamplingParams

        backend = self._backend()
        params = SamplingParams(max_new_tokens=8, greedy=True, temperature=1.0)
        texts = list(texts)

        def ask(text: str) -> str:
            msg = [{"role": "user", "content": fill_prompt(self.template, text[:4000], self.words)}]
            return backend.generate(msg, params)

        # one request first: a wrong URL or key fails fast with one clear message
        replies = [ask(texts[0])] if texts else []
        done = [1]
        stop = threading.Event()

        def ask_rest(text: str) -> str:
            if stop.is_set():
                raise BackendError("cancelled")
            try:
                return ask(text)
            finally:
                done[0] += 1

        with ThreadPoolExecutor(max_workers=max(1, self.config.openai_workers)) as pool:
            futures = [pool.submit(ask_rest, t) for t in texts[1:]]
            try:
                for f in futures:
                    replies.append(f.result())
                    check_stop()
                    progress(done[0] / len(texts), f"API {done[0]:,}/{len(texts):,}")
            except BaseException:
                stop.set()
                raise
        labels, rows = [], []
        for reply in replies:
            parsed = parse_reply(reply, self.words, self.classes)
            row = np.zeros(len(self.classes))
            if parsed is None:
                labels.append(UNPARSED)
            else:
                labels.append(parsed)
                row[self.classes.index(parsed)] = 1.0
            rows.append(row)
        return Predictions(labels, np.array(rows).reshape(len(texts), len(self.classes)), replies)


INFO = MethodInfo("openai", "OpenAI-compatible chat model", 0.91, "gpt-3.5-turbo-0125, temperature 0", False,
                  "your endpoint", "your endpoint", OpenAIMethod, default=False)

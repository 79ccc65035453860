"""Backends from UI values, and timed streaming (TTFT, tokens/s) for the lab's generate calls."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from core.errors import LabError
from core.generation import LocalBackend, Message, OpenAIBackend, SamplingParams

LOCAL = "Local model"
REMOTE = "OpenAI-compatible server"


def make_backend(kind: str, model_name: str = "chat-smollm2-135m", base_url: str = "", model: str = "",
                 api_key: str = "", timeout_s: float | None = None) -> Any:
    """A backend from the UI's settings. The key stays in the returned object (never logged)."""
    if kind == REMOTE:
        return OpenAIBackend((base_url or "").strip(), (model or "").strip(), (api_key or "").strip(), timeout_s)
    if kind != LOCAL:
        raise LabError(f"Unknown backend {kind!r}.")
    from core import catalogue

    try:
        entry = catalogue.get(model_name)
    except KeyError:
        raise LabError(f"Unknown model {model_name!r}.") from None
    if entry.task != "chat":
        raise LabError(f"{model_name} is not a chat model.")
    return LocalBackend(model_name)


def chat_models() -> list[tuple[str, str]]:
    """(label, name) for the catalogue's chat models, as shown in the current mode."""
    from core import catalogue
    from core.settings import get_settings

    mode = get_settings().mode
    out = []
    for e in catalogue.entries("chat"):
        if not e.available_in(mode):
            continue
        label = e.label or e.name
        if mode == "offline" and e.offline_label and e.name != "chat-smollm2-135m":
            label = f"{label} → runs {e.offline_label}"
        elif mode == "offline":
            label = e.offline_label or label
        out.append((label, e.name))
    return out


def sampling(temperature: float, top_p: float, top_k: float, max_new_tokens: float, repetition_penalty: float,
             seed: Any, greedy: bool) -> SamplingParams:
    """SamplingParams from UI values (None/"" seed = random), validated with one clear message."""
    try:
        seed_value = None if seed in (None, "", -1) else int(seed)
        params = SamplingParams(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                top_p=float(top_p), top_k=int(top_k), repetition_penalty=float(repetition_penalty),
                                seed=seed_value, greedy=bool(greedy))
    except (TypeError, ValueError):
        raise LabError("Invalid sampling settings: every value must be a number.") from None
    return params.validate()


class UserStop(threading.Event):
    """The Stop button's event. ``requested`` tells a user's stop apart from the backend setting the
    event itself when a stream ends (``core.generation`` sets it to release the generate thread)."""

    requested = False

    def request(self) -> None:
        self.requested = True
        self.set()


@dataclass
class Stats:
    ttft_s: float | None = None  # time to first token
    seconds: float = 0.0
    n_tokens: int = 0
    stopped: bool = False

    @property
    def tokens_per_s(self) -> float:
        return self.n_tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def decode_tokens_per_s(self) -> float:
        """Tokens after the first, per second after the first (TPOT⁻¹)."""
        if self.ttft_s is None or self.n_tokens < 2 or self.seconds <= self.ttft_s:
            return 0.0
        return (self.n_tokens - 1) / (self.seconds - self.ttft_s)


def count_output_tokens(backend: Any, text: str, pieces: int) -> int:
    if isinstance(backend, LocalBackend) and text:
        return backend.count_tokens(text)
    return pieces  # servers stream about one token per chunk


def timed_stream(backend: Any, messages: Sequence[Message], params: SamplingParams,
                 stop: threading.Event | None = None, stats: Stats | None = None, **kw: Any) -> Iterator[str]:
    """``backend.stream`` that fills ``stats`` (TTFT, seconds, tokens) as it goes."""
    stats = stats if stats is not None else Stats()
    start = time.perf_counter()
    text, pieces = "", 0
    for piece in backend.stream(messages, params, stop=stop, **kw):
        if stats.ttft_s is None:
            stats.ttft_s = time.perf_counter() - start
        text += piece
        pieces += 1
        stats.seconds = time.perf_counter() - start
        stats.n_tokens = pieces
        yield piece
    stats.seconds = time.perf_counter() - start
    stats.n_tokens = count_output_tokens(backend, text, pieces)
    stats.stopped = bool(getattr(stop, "requested", False))

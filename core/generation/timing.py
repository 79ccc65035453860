"""Timed streaming (time to first token, tokens/s) and the Stop button's event."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from core.generation.params import Message, SamplingParams


class UserStop(threading.Event):
    """The Stop button's event. ``requested`` tells a user's stop apart from the backend setting the
    event itself when a stream ends (the transformers engine sets it to release its generate thread)."""

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
    """Tokens in generated ``text``: the engine's own tokenizer for local engines, else stream pieces."""
    count = getattr(backend, "count_tokens", None)
    if count is not None and text:
        return count(text)
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

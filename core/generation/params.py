"""What every engine shares: messages, decoding settings, the Backend interface, input checks."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence

from core.errors import LabError
from core.settings import get_settings

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings (the book's ch. 3/6 knobs). ``greedy`` overrides the sampling values."""

    max_new_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 1.0
    top_k: int = 50
    repetition_penalty: float = 1.0
    seed: int | None = None
    greedy: bool = False

    def validate(self) -> "SamplingParams":
        limit = get_settings().limits.max_new_tokens
        problems = []
        if not 1 <= self.max_new_tokens <= limit:
            problems.append(f"max_new_tokens must be between 1 and {limit}")
        if not self.greedy and not 0.0 < self.temperature <= 5.0:
            problems.append("temperature must be above 0 and at most 5 (use greedy for 0)")
        if not 0.0 < self.top_p <= 1.0:
            problems.append("top_p must be in (0, 1]")
        if self.top_k < 0:
            problems.append("top_k must be 0 (off) or positive")
        if not 0.5 <= self.repetition_penalty <= 2.0:
            problems.append("repetition_penalty must be between 0.5 and 2")
        if problems:
            raise LabError("Invalid sampling settings: " + "; ".join(problems) + ".")
        return self


GREEDY = SamplingParams(greedy=True, temperature=1.0)


class Backend(Protocol):
    """What every generation backend offers."""

    name: str

    def stream(self, messages: Sequence[Message], params: SamplingParams = ...,
               stop: threading.Event | None = None, **kwargs: Any) -> Iterator[str]:
        """Yield text pieces as they are generated; stop early when ``stop`` is set."""
        ...

    def generate(self, messages: Sequence[Message], params: SamplingParams = ..., **kwargs: Any) -> str:
        ...


def check_messages(messages: Sequence[Message]) -> None:
    if not messages or not any(m.get("content", "").strip() for m in messages if m.get("role") == "user"):
        raise LabError("The prompt is empty: type something for the model to answer.")


def with_system_prompt(messages: Sequence[Message], system_prompt: str | None) -> list[Message]:
    """``messages`` with ``system_prompt`` first, unless they already have a system message."""
    msgs = list(messages)
    if system_prompt and not any(m["role"] == "system" for m in msgs):
        msgs = [{"role": "system", "content": system_prompt}, *msgs]
    return msgs


def check_prompt_length(n_prompt: int, max_new_tokens: int, window: int) -> None:
    """Refuse prompts that overflow the model's context window or the lab's prompt limit."""
    if n_prompt + max_new_tokens > window:
        raise LabError(f"The prompt has {n_prompt:,} tokens; with {max_new_tokens} new tokens that "
                       f"exceeds the model's {window:,}-token context window. Shorten it.")
    limit = get_settings().limits.prompt_tokens
    if n_prompt > limit:
        raise LabError(f"The prompt has {n_prompt:,} tokens; the lab's limit is "
                       f"{limit:,} (LLM_LAB_PROMPT_TOKENS).")

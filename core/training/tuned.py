"""A tuned SmolLM2 (base + merged LoRA adapters) as a generation backend and an arena contestant.

The adapter runs on the **transformers** engine: llama.cpp would need the merged model converted to
GGUF first (convert_hf_to_gguf + quantisation: minutes and a llama.cpp checkout), which a CPU
workshop run should not wait for. The merged model lives in the session's artifact cache; when the
lab budget evicted it, :func:`merged_model` rebuilds it from the adapter folders on disk.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from core.arena.contestants import Contestant
from core.cache import budget_cache
from core.errors import LabError
from core.generation.params import Message, SamplingParams, check_messages, with_system_prompt

_MODELS = budget_cache("training-tuned-models", max_items=8)


def merged_model(adapters: Sequence[str]) -> tuple[Any, Any]:
    """(model, tokenizer): the base with each adapter folder merged in order (cached)."""
    key = tuple(adapters)

    def build() -> tuple[Any, Any]:
        from peft import PeftModel

        from core.training.preference import load_base

        model, tok = load_base()
        for folder in adapters:
            if not Path(folder, "adapter_config.json").exists():
                raise LabError("The tuned model's adapter is gone from this server (restart or clean-up): "
                               "train it again.")
            model = PeftModel.from_pretrained(model, folder).merge_and_unload()
        model.eval()
        return model, tok

    return _MODELS.get_or_create(key, build)


def remember(adapters: Sequence[str], model: Any, tok: Any) -> None:
    """Keep an already merged model under its adapter chain (so the first battle does not rebuild it)."""
    _MODELS.put(tuple(adapters), (model, tok))


@dataclass
class TunedBackend:
    """Generation from a base + adapters chain, streamed token by token (transformers engine)."""

    adapters: tuple[str, ...]
    label: str = "SmolLM2 + adapter"
    system_prompt: str | None = None
    engine = "transformers"

    @property
    def name(self) -> str:
        return self.label

    def render_prompt(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        _, tok = merged_model(self.adapters)
        msgs = with_system_prompt(messages, self.system_prompt)
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt)

    def count_tokens(self, text: str) -> int:
        _, tok = merged_model(self.adapters)
        return len(tok(text, add_special_tokens=False)["input_ids"])

    def stream(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(),
               stop: threading.Event | None = None, **_: Any) -> Iterator[str]:
        from core.generation.transformers_engine import stream_generate

        check_messages(messages)
        params.validate()
        model, tok = merged_model(self.adapters)
        yield from stream_generate(model, tok, self.render_prompt(messages), params, stop=stop,
                                   what="Tuned model generation")

    def generate(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(), **kw: Any) -> str:
        return "".join(self.stream(messages, params, **kw))


@dataclass(frozen=True)
class TunedContestant(Contestant):
    """An arena contestant backed by a LoRA chain (``model`` is only a description here)."""

    adapters: tuple[str, ...] = ()
    summary: str = ""

    def make_backend(self) -> Any:
        return TunedBackend(self.adapters, self.label, self.system_prompt)

    def describe(self) -> str:
        return self.summary or f"SmolLM2-135M-Instruct + {len(self.adapters)} LoRA adapter(s)"


def enter_arena(arena: Any, cid: str, label: str, adapters: Sequence[str], summary: str,
                sampling: dict[str, Any] | None = None) -> TunedContestant:
    """Add (or replace) a tuned contestant in ``arena``'s pool so battles can draw it and the
    side-by-side tab can pick it."""
    c = TunedContestant(id=cid, label=label, backend="local", model="chat-smollm2-135m",
                        sampling=sampling or {"temperature": 0.7, "top_p": 0.9}, offline=True,
                        identity=("SmolLM", "Hugging Face", "HuggingFace"), adapters=tuple(adapters),
                        summary=summary)
    arena.contestants[:] = [x for x in arena.contestants if x.id != cid] + [c]
    arena.pool[:] = [x for x in arena.pool if x.id != cid] + [c]
    arena.by_id[cid] = c
    return c


def room_id(kind: str, room: str) -> str:
    """The contestant id of a room's tuned model (one per room and kind: a new run replaces it)."""
    return f"tuned-{kind}:{room or 'public'}"

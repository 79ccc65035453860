"""The transformers engine: a catalogue chat model run in this process with ``model.generate``.

Streamed token by token with ``TextIteratorStreamer``; on ZeroGPU the generate call runs inside a
``@spaces.GPU`` function. It is the engine on GPUs, where logits or logits processors are the
point (next-token view, llguidance-constrained output), and on CPU where llama.cpp is missing.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from core.errors import BackendError
from core.generation.params import (Message, SamplingParams, check_messages, check_prompt_length,
                                    with_system_prompt)
from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings


def _generate_kwargs(params: SamplingParams) -> dict[str, Any]:
    if params.greedy:
        return {"do_sample": False, "max_new_tokens": params.max_new_tokens,
                "repetition_penalty": params.repetition_penalty,
                "temperature": None, "top_p": None, "top_k": None}
    return {"do_sample": True, "max_new_tokens": params.max_new_tokens, "temperature": params.temperature,
            "top_p": params.top_p, "top_k": params.top_k or None, "repetition_penalty": params.repetition_penalty}


def _stream_duration(model_name: str, prompt: str, params: SamplingParams, *args: Any, **kw: Any) -> int:
    return estimate_duration(params.max_new_tokens, per_unit_s=0.05, base_s=5)


@gpu_task(duration=_stream_duration)
def _local_stream(model_name: str, prompt: str, params: SamplingParams,
                  logits_processors: Sequence[Any] | None = None,
                  stop: threading.Event | None = None) -> Iterator[str]:
    """Generate from an already-rendered prompt; runs in the ZeroGPU worker on Spaces."""
    from core.loader import load

    lm = load(model_name)
    yield from stream_generate(lm.model, lm.tokenizer, prompt, params, logits_processors, stop)


def _cpu_stream(model_name: str, prompt: str, params: SamplingParams,
                logits_processors: Sequence[Any] | None = None) -> Iterator[str]:
    """The same generation on a CPU copy of the model (ZeroGPU's quota is used up)."""
    lm = cpu_copy(model_name)
    yield from stream_generate(lm.model, lm.tokenizer, prompt, params, logits_processors, None)


def cpu_fallback_possible(model_name: str) -> bool:
    """Whether a CPU copy of the model is small enough to run here (``LLM_LAB_CPU_FALLBACK_MB``)."""
    from core import catalogue

    return catalogue.get(model_name).size_mb <= get_settings().cpu_fallback_mb


def cpu_copy(model_name: str) -> Any:
    """A CPU copy of a chat model, kept in the lab's memory budget (on ZeroGPU the main copy's
    tensors live on the GPU worker's device)."""
    from core import catalogue
    from core.cache import budget_cache
    from core.loader import CausalLM, load

    if not get_settings().zero_gpu:
        return load(model_name)  # off ZeroGPU the loaded model is already on the CPU

    def build() -> Any:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        entry = catalogue.get(model_name)
        tok = AutoTokenizer.from_pretrained(entry.hub_id, revision=entry.hub_revision)
        model = AutoModelForCausalLM.from_pretrained(entry.hub_id, revision=entry.hub_revision).eval()
        return CausalLM(model, tok, entry, entry.hub_id)

    return budget_cache("generation.cpu_copies").get_or_create(
        model_name, build, size=catalogue.get(model_name).size_mb * 1_000_000)


def stream_generate(model: Any, tok: Any, prompt: str, params: SamplingParams,
                    logits_processors: Sequence[Any] | None = None, stop: threading.Event | None = None,
                    what: str = "Local generation") -> Iterator[str]:
    """Stream ``model.generate`` on ``prompt`` piece by piece (a worker thread and a text streamer);
    setting ``stop`` or closing the generator ends the generation."""
    import torch
    from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    stop = stop if stop is not None else threading.Event()
    done = threading.Event()  # ours alone: the caller's stop may be shared (an arena battle's two sides)
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return stop.is_set() or done.is_set()

    streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True, timeout=300)
    kwargs = dict(**enc, streamer=streamer, stopping_criteria=StoppingCriteriaList([_Stop()]),
                  pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
                  **_generate_kwargs(params))
    if logits_processors:
        kwargs["logits_processor"] = LogitsProcessorList(list(logits_processors))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                model.generate(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer thread
            errors.append(exc)
            streamer.on_finalized_text("", stream_end=True)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield piece
    finally:
        done.set()  # a consumer that stops early (or closes this generator) also stops generate()
        worker.join()
    if errors:
        raise BackendError(f"{what} failed: {errors[0]}") from errors[0]


@dataclass
class LocalBackend:
    """A catalogue chat model run in this process."""

    model_name: str = "chat-smollm2-135m"
    system_prompt: str | None = None
    engine = "transformers"  # class attribute: which engine runs (lab_info, the header)

    @property
    def name(self) -> str:
        from core import catalogue

        return catalogue.get(self.model_name).display(get_settings().mode)

    def lm(self) -> Any:
        from core.loader import load

        return load(self.model_name)

    def render_prompt(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """The exact text the model receives (its chat template applied)."""
        msgs = with_system_prompt(messages, self.system_prompt)
        tok = self.lm().tokenizer
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt)
        return "\n".join(f"{m['role']}: {m['content']}" for m in msgs) + ("\nassistant:" if add_generation_prompt else "")

    def count_tokens(self, text: str) -> int:
        return len(self.lm().tokenizer(text, add_special_tokens=False)["input_ids"])

    def stream(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(),
               stop: threading.Event | None = None, logits_processors: Sequence[Any] | None = None,
               **_: Any) -> Iterator[str]:
        check_messages(messages)
        params.validate()
        prompt = self.render_prompt(messages)
        check_prompt_length(self.count_tokens(prompt), params.max_new_tokens, self.lm().context_window)
        # ``stop`` stays in this process: a threading.Event cannot be pickled into ZeroGPU's worker.
        # Breaking out closes the GPU generator, which stops generate() there (its own event).
        pieces = _local_stream(self.model_name, prompt, params, logits_processors, None)
        try:
            first = next(pieces, None)  # ZeroGPU's scheduling errors surface here, before any token
        except Exception as exc:  # noqa: BLE001 - only GPU-quota errors are handled; others re-raised
            pieces.close()
            pieces = self._fallback(exc, prompt, params, logits_processors)
            first = next(pieces, None)
        try:
            if first is None:
                return
            yield first
            for piece in pieces:
                if stop is not None and stop.is_set():
                    break
                yield piece
        finally:
            pieces.close()

    def _fallback(self, exc: Exception, prompt: str, params: SamplingParams,
                  logits_processors: Sequence[Any] | None) -> Iterator[str]:
        """When ZeroGPU has no GPU time for this visitor, run on the Space's CPU where the model fits."""
        from core.errors import LabError
        from core.gpu import friendly_gpu_message, is_zero_gpu_error

        if not is_zero_gpu_error(exc):
            raise exc
        if not cpu_fallback_possible(self.model_name):
            raise LabError(friendly_gpu_message(exc) + f" {self.name} is too large to run on this Space's CPU.") from None
        from core.jobs import report

        report(text="No GPU time left: running on the CPU instead (slower)")
        return _cpu_stream(self.model_name, prompt, params, logits_processors)

    def generate(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(), **kw: Any) -> str:
        return "".join(self.stream(messages, params, **kw))

"""Generation backends shared by Prompt Lab, RAG Chat, the Eval Arena and others.

One interface, two implementations:

* :class:`LocalBackend` — a catalogue chat model through transformers (SmolLM2 offline, Phi-3 or
  Qwen2.5 on the Hub), streamed token by token with ``TextIteratorStreamer``; on ZeroGPU the
  generate call runs inside a ``@spaces.GPU`` function.
* :class:`OpenAIBackend` — any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp server…)
  through the ``openai`` client. The API key lives in the object (the user's session), is never
  logged and never appears in an error message.

Both yield *text deltas* from :meth:`Backend.stream`; :meth:`Backend.generate` joins them.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Sequence

from core.errors import BackendError, LabError
from core.gpu import estimate_duration, gpu_task
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


# --------------------------------------------------------------------------------------------
# local transformers models
# --------------------------------------------------------------------------------------------

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
    import torch
    from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    from core.loader import load

    stop = stop if stop is not None else threading.Event()  # closing this generator stops generate()
    lm = load(model_name)
    tok = lm.tokenizer
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(lm.model.device)

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return bool(stop is not None and stop.is_set())

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
                lm.model.generate(**kwargs)
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
        if stop is not None:
            stop.set()  # a consumer that stops early also stops the generate thread
        worker.join()
    if errors:
        raise BackendError(f"Local generation failed: {errors[0]}") from errors[0]


@dataclass
class LocalBackend:
    """A catalogue chat model run in this process."""

    model_name: str = "chat-smollm2-135m"
    system_prompt: str | None = None

    @property
    def name(self) -> str:
        from core import catalogue

        return catalogue.get(self.model_name).display(get_settings().mode)

    def lm(self) -> Any:
        from core.loader import load

        return load(self.model_name)

    def render_prompt(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """The exact text the model receives (its chat template applied)."""
        msgs = list(messages)
        if self.system_prompt and not any(m["role"] == "system" for m in msgs):
            msgs = [{"role": "system", "content": self.system_prompt}, *msgs]
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
        n_prompt = self.count_tokens(prompt)
        window = self.lm().context_window
        if n_prompt + params.max_new_tokens > window:
            raise LabError(f"The prompt has {n_prompt:,} tokens; with {params.max_new_tokens} new tokens that "
                           f"exceeds the model's {window:,}-token context window. Shorten it.")
        if n_prompt > get_settings().limits.prompt_tokens:
            raise LabError(f"The prompt has {n_prompt:,} tokens; the lab's limit is "
                           f"{get_settings().limits.prompt_tokens:,} (LLM_LAB_PROMPT_TOKENS).")
        # ``stop`` stays in this process: a threading.Event cannot be pickled into ZeroGPU's worker.
        # Breaking out closes the GPU generator, which stops generate() there (its own event).
        pieces = _local_stream(self.model_name, prompt, params, logits_processors, None)
        try:
            for piece in pieces:
                yield piece
                if stop is not None and stop.is_set():
                    break
        finally:
            pieces.close()

    def generate(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(), **kw: Any) -> str:
        return "".join(self.stream(messages, params, **kw))


# --------------------------------------------------------------------------------------------
# OpenAI-compatible servers
# --------------------------------------------------------------------------------------------

@dataclass
class OpenAIBackend:
    """Any server that speaks the OpenAI chat-completions protocol."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout_s: float | None = None
    system_prompt: str | None = None

    @property
    def name(self) -> str:
        return f"{self.model} @ {self.base_url}"

    def _client(self) -> Any:
        from openai import OpenAI

        if not self.base_url.strip():
            raise LabError("Set the base URL of the OpenAI-compatible server (e.g. http://localhost:11434/v1).")
        if not self.model.strip():
            raise LabError("Set the model name to use on the OpenAI-compatible server.")
        return OpenAI(base_url=self.base_url.strip(), api_key=self.api_key or "not-needed",
                      timeout=self._timeout(), max_retries=0)

    def _timeout(self) -> float:
        return self.timeout_s or get_settings().limits.request_timeout_s

    def _messages(self, messages: Sequence[Message]) -> list[Message]:
        msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
        if self.system_prompt and not any(m["role"] == "system" for m in msgs):
            msgs.insert(0, {"role": "system", "content": self.system_prompt})
        return msgs

    def _request(self, params: SamplingParams) -> dict[str, Any]:
        req: dict[str, Any] = {"max_tokens": params.max_new_tokens}
        if params.greedy:
            req["temperature"] = 0.0
        else:
            req.update(temperature=params.temperature, top_p=params.top_p)
        if params.seed is not None:
            req["seed"] = params.seed
        return req

    def stream(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(),
               stop: threading.Event | None = None, response_format: dict[str, Any] | None = None,
               **_: Any) -> Iterator[str]:
        check_messages(messages)
        params.validate()
        client = self._client()
        extra = {"response_format": response_format} if response_format else {}
        watchdog: _IdleWatchdog | None = None
        try:
            chunks = client.chat.completions.create(model=self.model, messages=self._messages(messages),
                                                    stream=True, **self._request(params), **extra)
            watchdog = _IdleWatchdog(self._timeout(), chunks.close)
            finished = False  # servers end a complete stream with a finish_reason ("stop", "length"…)
            for chunk in chunks:
                watchdog.touch()
                if stop is not None and stop.is_set():
                    chunks.close()
                    break
                choices = getattr(chunk, "choices", None) or []
                if not choices:
                    continue
                finished = finished or bool(getattr(choices[0], "finish_reason", None))
                delta = getattr(choices[0], "delta", None)
                text = getattr(delta, "content", None) if delta is not None else None
                if text:
                    watchdog.pause()  # the caller's time between pieces is not the server's
                    yield text
                    watchdog.touch()
            else:
                if watchdog.fired:
                    raise BackendError(describe_timeout(self.base_url))
                if not finished:
                    raise BackendError(f"The server at {self.base_url} closed the stream before the answer was "
                                       "finished (connection dropped); the text so far is incomplete.")
        except LabError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to one clear message
            if watchdog is not None and watchdog.fired:
                raise BackendError(describe_timeout(self.base_url)) from None
            raise BackendError(describe_api_error(exc, self.base_url, self.api_key)) from None
        finally:
            if watchdog is not None:
                watchdog.cancel()

    def generate(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(), **kw: Any) -> str:
        return "".join(self.stream(messages, params, **kw))


class _IdleWatchdog:
    """Closes a stream when no chunk has arrived for ``timeout_s``.

    httpx's read timeout only covers silence: a server (or proxy) that keeps the connection alive
    with SSE comments while its model is stuck would otherwise hold the request forever.
    """

    def __init__(self, timeout_s: float, close: Any) -> None:
        self.timeout_s = timeout_s
        self.fired = False
        self._close = close
        self._last = time.monotonic()
        self._paused = False
        self._done = threading.Event()
        threading.Thread(target=self._run, name="openai-idle-watchdog", daemon=True).start()

    def touch(self) -> None:
        self._last, self._paused = time.monotonic(), False

    def pause(self) -> None:
        self._paused = True

    def cancel(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.wait(min(0.5, self.timeout_s / 4)):
            if not self._paused and time.monotonic() - self._last > self.timeout_s:
                self.fired = True
                try:
                    self._close()
                except Exception:  # noqa: BLE001 - the reading thread reports the timeout
                    pass
                return


def describe_timeout(base_url: str) -> str:
    return f"The server at {base_url} did not answer in time (timeout)."


def describe_api_error(exc: BaseException, base_url: str, api_key: str = "") -> str:
    """A one-line, key-free explanation of an OpenAI-client failure."""
    import openai

    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APITimeoutError):
        message = describe_timeout(base_url)
    elif isinstance(exc, openai.APIConnectionError):
        message = f"Could not reach the server at {base_url} (connection failed or dropped)."
    elif status == 401:
        message = "The server rejected the API key (401 Unauthorized)."
    elif status == 403:
        message = "The API key is not allowed to use this model (403 Forbidden)."
    elif status == 404:
        message = "The server does not know this model or endpoint (404). Check the model name and base URL."
    elif status == 429:
        message = "The server is rate-limiting requests (429). Wait a little and try again."
    elif status is not None and status >= 500:
        message = f"The server had an internal error ({status}). Try again later."
    elif status is not None:
        message = f"The server refused the request ({status})."
    else:
        message = f"The server sent a response the lab could not read ({type(exc).__name__})."
    return redact(message, api_key)


def redact(text: str, *secrets: str) -> str:
    """Remove secrets (API keys, tokens) from text before it is shown or logged."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "•••")
    return text

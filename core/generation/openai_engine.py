"""The OpenAI-compatible engine: any server that speaks the chat-completions protocol (OpenAI,
Ollama, vLLM, llama.cpp server…) through the ``openai`` client. The API key lives in the object
(the user's session), is never logged and never appears in an error message.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from core.errors import BackendError, LabError
from core.generation.params import Message, SamplingParams, check_messages
from core.settings import get_settings


@dataclass
class OpenAIBackend:
    """Any server that speaks the OpenAI chat-completions protocol."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout_s: float | None = None
    system_prompt: str | None = None

    engine = "openai"  # class attribute: which engine runs
    #: after a ``stream(..., top_logprobs=k)``: one entry per output token the server scored,
    #: ``{"token": str, "logprob": float, "top": [(token, logprob), ...]}`` (empty when it sent none)
    logprobs: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)

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
        extra = sampling_extras(self.base_url, params)
        if extra:
            req["extra_body"] = extra
        return req

    def stream(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(),
               stop: threading.Event | None = None, response_format: dict[str, Any] | None = None,
               top_logprobs: int = 0, **_: Any) -> Iterator[str]:
        """Stream text pieces. ``top_logprobs=k`` asks for each token's ``k`` most likely alternatives
        (``logprobs=True``); what the server returns is collected in :attr:`logprobs`."""
        check_messages(messages)
        params.validate()
        client = self._client()
        extra: dict[str, Any] = {"response_format": response_format} if response_format else {}
        self.logprobs = []
        if top_logprobs:
            extra.update(logprobs=True, top_logprobs=int(top_logprobs))
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
                if top_logprobs:
                    self.logprobs += _token_logprobs(choices[0])
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


#: Sampling settings some servers do not take, by host: setting → why (the UI disables them).
_UNSUPPORTED = {
    "openai": {"top_k": "OpenAI's API has no top_k.",
               "repetition penalty": "OpenAI's API has no repetition penalty (only frequency/presence penalties)."},
    "ollama": {"top_k": "Ollama's OpenAI-compatible endpoint ignores top_k.",
               "repetition penalty": "Ollama's OpenAI-compatible endpoint ignores the repetition penalty."},
}


def _server_family(base_url: str) -> str:
    from urllib.parse import urlparse

    url = urlparse((base_url or "").strip())
    host = (url.hostname or "").lower()
    if host.endswith("openai.com") or host.endswith("openai.azure.com"):
        return "openai"
    if "ollama" in host or url.port == 11434:
        return "ollama"
    return "other"  # vLLM, llama.cpp server, LM Studio, TGI…: take top_k / repetition_penalty


def sampling_support(base_url: str) -> dict[str, str]:
    """The sampling settings the server at ``base_url`` does not take: {setting: reason}."""
    return dict(_UNSUPPORTED.get(_server_family(base_url), {}))


def sampling_extras(base_url: str, params: SamplingParams) -> dict[str, Any]:
    """Non-OpenAI sampling settings for ``extra_body``: top_k and the repetition penalty (as vLLM
    names it, and as llama.cpp's server does), only where the server takes them and they are set."""
    unsupported = sampling_support(base_url)
    extra: dict[str, Any] = {}
    if params.top_k and not params.greedy and "top_k" not in unsupported:
        extra["top_k"] = int(params.top_k)
    if params.repetition_penalty != 1.0 and "repetition penalty" not in unsupported:
        extra.update(repetition_penalty=float(params.repetition_penalty),
                     repeat_penalty=float(params.repetition_penalty))
    return extra


def _token_logprobs(choice: Any) -> list[dict[str, Any]]:
    """The ``logprobs.content`` entries of one streamed choice, as plain data."""
    content = getattr(getattr(choice, "logprobs", None), "content", None) or []
    return [{"token": getattr(t, "token", ""), "logprob": float(getattr(t, "logprob", 0.0)),
             "top": [(getattr(a, "token", ""), float(getattr(a, "logprob", 0.0)))
                     for a in getattr(t, "top_logprobs", None) or []]} for t in content]


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

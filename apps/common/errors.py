"""User-facing errors: specific messages, never a stack trace."""
from __future__ import annotations

import functools
import html
import inspect
import logging
import threading
from collections import OrderedDict
from typing import Any, Callable

import gradio as gr

import core.gpu
from apps.common.queue import session_hash
from core.errors import LabError
from core.escape import esc

log = logging.getLogger(__name__)


def error_html(message: str) -> str:
    return f'<div class="lab-error" role="alert">{esc(message)}</div>'


def warn_html(message: str) -> str:
    return f'<div class="lab-warn">{esc(message)}</div>'


def _convert(fn: Callable[..., Any], exc: BaseException) -> gr.Error:
    if core.gpu.is_zero_gpu_error(exc):  # ZeroGPU quota / no GPU: say what it means, not its jargon
        return gr.Error(core.gpu.friendly_gpu_message(exc), title="GPU unavailable", print_exception=False)
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, LabError):  # toasts render HTML, and messages may quote user text (a file name…)
        return gr.Error(html.escape(str(exc), quote=False), print_exception=False)
    log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
    return gr.Error(f"Something went wrong ({type(exc).__name__}). The details are in the server log.",
                    print_exception=False)


#: The last failure of each (browser session, handler), read by the inline-error step; bounded.
_LAST: OrderedDict[tuple[str | None, str], str] = OrderedDict()
_LAST_MAX = 4096
_LAST_LOCK = threading.Lock()


def _key(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn)}"


def _record(fn: Callable[..., Any], exc: BaseException, converted: gr.Error) -> None:
    if isinstance(exc, (LabError, gr.Error)) and not core.gpu.is_zero_gpu_error(exc):
        text = str(getattr(exc, "message", None) or exc)
    else:
        text = html.unescape(str(converted.message))
    with _LAST_LOCK:
        _LAST[(session_hash(), _key(fn))] = text
        while len(_LAST) > _LAST_MAX:
            _LAST.popitem(last=False)


def _fail(fn: Callable[..., Any], exc: BaseException) -> gr.Error:
    converted = _convert(fn, exc)
    _record(fn, exc, converted)
    return converted


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn :class:`LabError` into a visible ``gr.Error`` and anything unexpected into a short
    message (logged with its traceback server-side), so users never see a stack trace. The message
    is also kept for :func:`errors_inline`, which shows it next to the action."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                raise _fail(fn, exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _fail(fn, exc) from None
    return wrapper


def last_error(fn: Callable[..., Any], session: str | None) -> str:
    """Pop the message of ``fn``'s last failure in ``session`` ('' when it succeeded)."""
    with _LAST_LOCK:
        return _LAST.pop((session, _key(getattr(fn, "__wrapped__", fn))), "")


def errors_inline(event: Any, status: Any, fn: Callable[..., Any]) -> Any:
    """Chain onto ``event`` an instant step that writes the message of its failure into ``status``
    (an ``gr.HTML`` next to the action) or clears it after a success: the message stays until the
    next action, instead of only a toast that vanishes. The event's API outputs are unchanged."""
    def show(request: gr.Request) -> str:
        text = last_error(fn, getattr(request, "session_hash", None))
        return error_html(text) if text else ""

    # Gradio 6.31's page runs .then() steps only after a success; .failure() covers the error path
    event.failure(show, None, status, queue=False, show_progress="hidden", api_visibility="private")
    return event.success(show, None, status, queue=False, show_progress="hidden", api_visibility="private")

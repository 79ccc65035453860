"""User-facing errors: specific messages, never a stack trace."""
from __future__ import annotations

import functools
import html
import inspect
import logging
from typing import Any, Callable

import gradio as gr

import core.gpu
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


def user_errors(fn: Callable[..., Any] | None = None, *, inline: int | None = None) -> Any:
    """Turn :class:`LabError` into a visible ``gr.Error`` and anything unexpected into a short
    message (logged with its traceback server-side), so users never see a stack trace.

    ``@user_errors(inline=n)``: ``fn`` returns ``n`` values and the event has one more output, an
    inline status ``gr.HTML`` next to the action (last). The message is written there and stays until
    the next action succeeds (which clears it); the other outputs keep what they showed. API callers
    still get the error (the handler raises after the inline update).
    """
    if fn is None:
        return functools.partial(user_errors, inline=inline)
    if inline is not None:
        return _inline(fn, inline)
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                raise _convert(fn, exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _convert(fn, exc) from None
    return wrapper


def _message(exc: BaseException, converted: gr.Error) -> str:
    if isinstance(exc, (LabError, gr.Error)) and not core.gpu.is_zero_gpu_error(exc):
        return str(getattr(exc, "message", None) or exc)
    return html.unescape(str(converted.message))


def _inline(fn: Callable[..., Any], n: int) -> Callable[..., Any]:
    def values(result: Any) -> tuple:
        return (result,) if n == 1 else tuple(result) if n else ()

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if inspect.isgeneratorfunction(fn):
                for result in fn(*args, **kwargs):
                    yield (*values(result), "")
            else:
                yield (*values(fn(*args, **kwargs)), "")
        except Exception as exc:  # noqa: BLE001
            converted = _convert(fn, exc)
            yield (*(gr.skip() for _ in range(n)), error_html(_message(exc, converted)))
            raise converted from None
    return wrapper

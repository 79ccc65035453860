"""The ZeroGPU shim.

On a ZeroGPU Space (``SPACES_ZERO_GPU=true``) :func:`gpu_task` is ``spaces.GPU(duration=...)``;
everywhere else ``spaces.GPU`` returns the function unchanged, so the same code runs on a laptop,
in CI and on a Space. ``spaces`` is imported here, before anything imports torch, because ZeroGPU
refuses to start once CUDA has been initialised. Nothing in this module touches CUDA.
"""
from __future__ import annotations

import os
from typing import Any, Callable, TypeVar

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import spaces  # noqa: E402  (must precede torch on ZeroGPU)

from core.settings import get_settings  # noqa: E402

F = TypeVar("F", bound=Callable[..., Any])

#: ``gr.Error`` titles raised by ZeroGPU when no GPU time can be had (see shared/SPACES.md §1.7).
ZEROGPU_ERROR_TITLES = (
    "ZeroGPU quota exceeded",
    "ZeroGPU illegal duration",
    "ZeroGPU queue timeout",
    "ZeroGPU client error",
    "ZeroGPU pending credits exceeded",
)

#: Shown instead of the raw ZeroGPU message; the README's instructor section explains the quota.
QUOTA_MESSAGE = (
    "The shared GPU is not available right now ({title}). Visitors who are not signed in share one "
    "2-minute daily GPU quota per network, so a room behind one Wi-Fi runs out fast. Press "
    "\"Sign in with Hugging Face\" at the top of this page (a free account gives you your own 5 minutes a "
    "day) and open the Space from its huggingface.co page, or try again later."
)


def gpu_task(duration: int | Callable[..., int] = 60) -> Callable[[F], F]:
    """Decorate a function that needs the GPU on ZeroGPU Spaces (identity elsewhere).

    ``duration`` is seconds, or a callable taking the function's arguments that returns seconds;
    keep it tight, since shorter requests get priority and are checked against the visitor's quota.
    The function must return CPU objects and must not be ``async``.

    With ``LLM_LAB_GPU_PICKLE_CHECK=1`` (off ZeroGPU; the Space tests set it) every call also
    checks what ZeroGPU would do: arguments, results and yielded items are pickled, because they
    cross into and out of a forked worker process (a ``threading.Event``, a lock or a lambda fails).
    """
    decorator = spaces.GPU(duration=duration)
    settings = get_settings()
    if not settings.gpu_pickle_check or settings.zero_gpu:
        return decorator

    def check(fn: F) -> F:
        return decorator(_pickle_checked(fn))  # type: ignore[return-value]

    return check


def _pickle_checked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` that fails like ZeroGPU when its arguments or results cannot be pickled."""
    import functools
    import inspect
    import pickle

    name = getattr(fn, "__qualname__", repr(fn))

    def dumps(what: str, value: Any) -> None:
        try:
            pickle.dumps(value)
        except Exception as exc:  # noqa: BLE001 - PicklingError, TypeError, AttributeError...
            raise RuntimeError(f"GPU function {name}: its {what} cannot cross ZeroGPU's process boundary "
                               f"(pickle: {type(exc).__name__}: {exc})") from exc

    def check_args(args: tuple, kwargs: dict) -> None:
        for i, arg in enumerate(args):
            dumps(f"argument {i + 1} ({type(arg).__name__})", arg)
        for key, arg in kwargs.items():
            dumps(f"argument {key!r} ({type(arg).__name__})", arg)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            check_args(args, kwargs)
            for item in fn(*args, **kwargs):
                dumps(f"yielded value ({type(item).__name__})", item)
                yield item
        return gen

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        check_args(args, kwargs)
        result = fn(*args, **kwargs)
        dumps(f"result ({type(result).__name__})", result)
        return result
    return plain


def estimate_duration(units: int, *, per_unit_s: float, base_s: float = 5.0, cap_s: int = 90) -> int:
    """A ZeroGPU ``duration`` for work of ``units`` size (tokens, images, documents...)."""
    return int(min(cap_s, max(5.0, base_s + units * per_unit_s)))


def is_zero_gpu_error(exc: BaseException) -> bool:
    """True if ``exc`` is one of ZeroGPU's scheduling/quota errors (not a bug in our code)."""
    return getattr(exc, "title", None) in ZEROGPU_ERROR_TITLES


def friendly_gpu_message(exc: BaseException) -> str:
    """A user-facing sentence for a ZeroGPU scheduling error."""
    return QUOTA_MESSAGE.format(title=getattr(exc, "title", "GPU unavailable"))


def call_with_cpu_fallback(gpu_fn: Callable[..., Any], cpu_fn: Callable[..., Any] | None,
                           *args: Any, on_fallback: Callable[[str], None] | None = None,
                           **kwargs: Any) -> Any:
    """Call ``gpu_fn``; on a ZeroGPU quota/availability error run ``cpu_fn`` instead.

    This must be called from an undecorated function: a GPU function cannot catch its own
    scheduling errors. ``on_fallback`` receives the friendly message (e.g. ``gr.Warning``).
    Without a CPU path the error is re-raised as a :class:`~core.errors.LabError`.
    """
    from core.errors import LabError

    try:
        return gpu_fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - only ZeroGPU's own errors are handled
        if not is_zero_gpu_error(exc):
            raise
        message = friendly_gpu_message(exc)
        if cpu_fn is None:
            raise LabError(message) from exc
        if on_fallback is not None:
            on_fallback(message + " Running on the CPU instead (slower).")
        return cpu_fn(*args, **kwargs)


def device() -> str:
    """The torch device for model placement: ``cuda`` on ZeroGPU Spaces, ``cpu`` elsewhere."""
    return "cuda" if get_settings().zero_gpu else "cpu"

"""glibc heap hygiene for a long-running, many-threaded server process.

Gradio runs handlers on dozens of worker threads; glibc gives busy threads their own malloc arenas
(up to 8 per core) and keeps freed pages inside them, so a lab that has served a room holds memory
it no longer uses. :func:`limit_arenas` caps the arena count (set once, at start, before the worker
threads exist); :func:`trim` hands free pages back to the OS after a job ends, at most every few
seconds. Both do nothing where glibc is absent (macOS, musl, Windows).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from typing import Any

M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
_LOCK = threading.Lock()
_LAST_TRIM = 0.0
_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC = lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else False
        except OSError:
            _LIBC = False
    return _LIBC


def limit_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` (0 leaves glibc's default); True when applied."""
    lib = _libc()
    if not lib or arenas <= 0:
        return False
    return bool(lib.mallopt(M_ARENA_MAX, int(arenas)))


def trim(min_interval_s: float = 5.0) -> bool:
    """Return free heap pages to the OS (``malloc_trim(0)``), unless it ran in the last ``min_interval_s``.

    True when it ran. Cheap (milliseconds) and safe to call from any thread."""
    global _LAST_TRIM
    lib = _libc()
    if not lib:
        return False
    with _LOCK:
        now = time.monotonic()
        if now - _LAST_TRIM < min_interval_s:
            return False
        _LAST_TRIM = now
    lib.malloc_trim(0)
    return True


def trim_soon(min_interval_s: float = 5.0) -> None:
    """:func:`trim` on a short-lived thread, so an event loop never waits for it (off when
    ``LLM_LAB_MALLOC_ARENAS=0`` leaves glibc's heap as it is)."""
    from core.settings import get_settings

    if get_settings().malloc_arenas > 0 and _libc() and time.monotonic() - _LAST_TRIM >= min_interval_s:
        threading.Thread(target=trim, args=(min_interval_s,), name="lab-heap-trim", daemon=True).start()

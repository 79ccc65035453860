"""The lab's OpenAI-compatible server: what ``--openai-base-url`` / ``--openai-model`` (settings
``openai``) configure, and the models a server lists at ``/v1/models``.

Every generating app's backend picker (:mod:`apps.common.backend`) and the arena's contestants
(:func:`core.arena.contestants.configured_contestants`) read the server from here, so one switch
points the whole lab at one server. Listings are kept for a minute per (base URL, key), failures
too, so a lab whose pickers all ask at start waits for an unreachable server once.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from core.errors import LabError
from core.settings import get_settings

LIST_TTL_S = 60.0


@dataclass(frozen=True)
class Server:
    """The configured server: base URL, model (may be empty: the server's first), key (never shown)."""

    base_url: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


def configured_server() -> Server:
    """The server of the one switch (settings ``openai``); ``configured`` is False without one."""
    openai = get_settings().openai
    return Server((openai.base_url or "").strip().rstrip("/"), (openai.model or "").strip(), openai.api_key or "")


def _list(base_url: str, api_key: str, timeout_s: float) -> list[str] | LabError:
    from openai import OpenAI, OpenAIError

    try:
        client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0)
        return sorted(m.id for m in client.models.list())
    except (OpenAIError, OSError) as exc:
        return LabError(f"Could not list the models of {base_url} ({type(exc).__name__}): is the server running?")


def server_models(base_url: str, api_key: str = "", timeout_s: float = 10.0, *, fresh: bool = False) -> list[str]:
    """The model ids the OpenAI-compatible server at ``base_url`` lists (``GET /v1/models``), sorted;
    ``[]`` without a base URL. A clear :class:`LabError` when the server cannot be reached."""
    from core.cache import budget_cache

    base_url = (base_url or "").strip().rstrip("/")
    if not base_url:
        return []
    key_id = hashlib.sha256((api_key or "").encode()).hexdigest()[:16]  # the key itself is never a cache key
    cache = budget_cache("server-models", max_items=32)
    slot = (base_url, key_id, int(time.monotonic() // LIST_TTL_S))
    if fresh:
        cache.discard(slot)
    result = cache.get_or_create(slot, lambda: _list(base_url, api_key, timeout_s), size=256)
    if isinstance(result, LabError):
        raise result
    return list(result)


def default_server_model(server: Server | None = None, timeout_s: float = 3.0) -> tuple[str, list[str]]:
    """(model, listed models) for a picker: the configured model, else the server's first; the
    listing is empty when the server is not configured or cannot be reached (the picker then takes
    free text)."""
    server = server or configured_server()
    if not server.configured:
        return server.model, []
    try:
        listed = server_models(server.base_url, server.api_key, timeout_s)
    except LabError:
        listed = []
    return server.model or (listed[0] if listed else ""), listed

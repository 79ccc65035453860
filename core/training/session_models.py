"""A trained embedder as a model name the rest of the lab understands (RAG Chat, Topic Explorer).

The embedder a browser session trained in the Classifier Zoo (kept in :mod:`core.training.artifacts`)
is named ``session:<owner tag>:embedder:<artifact id>``. :func:`core.loader.load` and
:mod:`core.embeddings` resolve such names here:

* **Isolation**: the owner tag is a digest of the lab session id; resolving checks it against the
  *calling* session (:func:`current_session`) and refuses any other with a clear message, before
  a model is loaded or a cached vector returned.
* **No stale vectors**: the artifact id is new for every run, and :mod:`core.embeddings` uses the
  whole name in its cache keys, so a retrained embedder never gets the previous run's vectors.
* **Budget**: the model is the artifact's own object, held in the ``training-artifacts`` cache of
  the lab's memory budget (no second copy in the model cache); evicted, it says so.

The calling session comes from :func:`acting_as` (a context variable) or, in the apps, from the
provider :mod:`apps.common.labsession` installs (the browser-level lab id of the Gradio request).
"""
from __future__ import annotations

import contextlib
import hashlib
from contextvars import ContextVar
from typing import Any, Callable, Iterator

from core.errors import ModelUnavailable
from core.training import artifacts

PREFIX = "session:"
KINDS = ("embedder",)
LABEL = "Your trained embedder (from the Classifier Zoo, this session)"
_caller: ContextVar[str | None] = ContextVar("lab_session_caller", default=None)
_provider: list[Callable[[], str | None]] = []


def set_provider(fn: Callable[[], str | None]) -> None:
    """Install the function that names the calling session (the apps: the request's lab id)."""
    _provider[:] = [fn]


@contextlib.contextmanager
def acting_as(session: str | None) -> Iterator[None]:
    """Run the block as ``session`` (tests, background work started on a session's behalf)."""
    token = _caller.set(session)
    try:
        yield
    finally:
        _caller.reset(token)


def current_session() -> str | None:
    """The session the current code runs for (:func:`acting_as`, else the installed provider)."""
    value = _caller.get()
    if value is None and _provider:
        value = _provider[0]()
    return value or None


def owner_tag(session: str) -> str:
    """A short digest of a session id (the id itself never appears in a model name or index key)."""
    return hashlib.sha256(f"lab-session|{session}".encode()).hexdigest()[:16]


def is_session_model(name: str | None) -> bool:
    return bool(name) and str(name).startswith(PREFIX)


def model_name(session: str | None, kind: str = "embedder") -> str | None:
    """The name of ``session``'s latest trained ``kind``, or None when it has none in memory."""
    if not session:
        return None
    art = artifacts.get(session, kind)
    if art is None or art.model is None:
        return None
    return f"{PREFIX}{owner_tag(session)}:{kind}:{art.id}"


def _parse(name: str) -> tuple[str, str, str]:
    parts = name[len(PREFIX):].split(":")
    if len(parts) != 3 or parts[1] not in KINDS:
        raise ModelUnavailable(f"'{name}' is not a trained-model name of this lab.")
    return parts[0], parts[1], parts[2]


def resolve(name: str) -> artifacts.Artifact:
    """The calling session's artifact named ``name`` (:class:`ModelUnavailable` for another session's,
    a replaced one or an evicted one)."""
    tag, kind, art_id = _parse(name)
    session = current_session()
    if not session or owner_tag(session) != tag:
        raise ModelUnavailable(f"This trained {kind} belongs to another browser session: only the session that "
                               "trained it can use it.",
                               hint="Train your own in the Classifier Zoo ('Train your embedder' tab).")
    art = artifacts.get(session, kind)
    if art is None or art.model is None:
        raise ModelUnavailable(f"Your trained {kind} is no longer in memory (it was evicted under the lab's "
                               "memory budget or the server restarted).",
                               hint="Train it again in the Classifier Zoo, then choose it here.")
    if art.id != art_id:
        raise ModelUnavailable(f"You trained a newer {kind} since this one was chosen.",
                               hint="Choose 'Your trained embedder' again to use the new one.")
    return art


def load(name: str) -> Any:
    """The calling session's trained model ``name`` (a SentenceTransformer for embedders)."""
    return resolve(name).model


def identity(name: str) -> str:
    """What embeds for ``name`` (checked against the caller first): the name itself, artifact id included."""
    resolve(name)
    return name


def label(name: str) -> str:
    """How the UI names a session model."""
    return LABEL


def choices(session: str | None, kind: str = "embedder") -> list[tuple[str, str]]:
    """Dropdown choices for ``session``'s trained models: ``[(label, name)]`` or ``[]``."""
    name = model_name(session, kind)
    return [(LABEL, name)] if name else []

"""The seven LLM Lab apps. ``python -m apps`` serves them together (home at ``/``, each app at
``/<slug>``); ``python -m apps.<slug>`` serves one alone at ``/``.

Each app is a package ``apps/<slug>/``: ``__init__.py`` declares its :class:`~apps.manifest.Manifest`
(plain data, no side effects), ``app.py`` lays out and wires its ``gr.Blocks`` (``build()``), and
``views.py`` renders its HTML. The logic lives in ``core/<slug>/``.
"""
from __future__ import annotations

import importlib

import core  # noqa: F401  (applies offline mode to the environment before gradio imports huggingface_hub)
from apps.manifest import Chapter, Manifest

SLUGS: tuple[str, ...] = ("tokenizers", "classifiers", "topics", "prompts", "rag", "vision", "arena")


def manifest(slug: str) -> Manifest:
    """The manifest of one app (``KeyError`` for an unknown slug)."""
    if slug not in SLUGS:
        raise KeyError(f"unknown app {slug!r}; known: {', '.join(SLUGS)}")
    return importlib.import_module(f"apps.{slug}").MANIFEST


def manifests() -> list[Manifest]:
    """Every app's manifest, in the lab's order."""
    return [manifest(slug) for slug in SLUGS]


__all__ = ["Chapter", "Manifest", "SLUGS", "manifest", "manifests"]

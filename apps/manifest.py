"""What an app declares about itself: one :class:`Manifest` per ``apps/<slug>/__init__.py``.

A manifest is plain data (importing it imports neither gradio nor any model library). The lab
shell, ``python -m apps.<slug>``, the Space builder and the home page all read it, so an app's
title, chapters, models and assets exist in exactly one place.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from core.book import NOTEBOOKS, Chapter  # noqa: F401  (re-exported: apps.manifest.Chapter)


@dataclass(frozen=True)
class Manifest:
    """An app's declaration: who it is, what it needs, how to build and start it."""

    slug: str  # URL path, api_name prefix, apps/<slug>/ and core/<slug>/
    title: str
    emoji: str
    tagline: str
    chapters: tuple[Chapter, ...]
    models: tuple[str, ...] = ()  # catalogue names the app can load (the Space builder pins them)
    assets: tuple[str, ...] = ()  # core.assets names the app needs offline
    builtin_assets: tuple[str, ...] = ()  # folders under assets/ the app reads
    startup: str = ""  # "module:function" run once before serving (clean temp folders, warm-ups)
    build: str = ""  # "module:function" returning the app's gr.Blocks; default apps.<slug>.app:build
    css_file: str = "style.css"  # next to the package, optional
    extra_requirements: tuple[str, ...] = field(default=())  # beyond the shared ones (Spaces)

    @property
    def path(self) -> str:
        return f"/{self.slug}"

    @property
    def chapter_tags(self) -> str:
        return "Ch. " + ", ".join(str(c.number) for c in self.chapters)

    @property
    def package_dir(self) -> Path:
        return Path(__file__).parent / self.slug

    @property
    def css(self) -> str:
        css = self.package_dir / self.css_file
        return css.read_text(encoding="utf-8") if self.css_file and css.exists() else ""

    def build_fn(self) -> Callable[..., Any]:
        return _resolve(self.build or f"apps.{self.slug}.app:build")

    def run_startup(self) -> None:
        """Run the app's startup hook (idempotent hooks; a missing hook is fine)."""
        if self.startup:
            _resolve(self.startup)()


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)

"""The seven LLM Lab apps. ``python -m apps`` serves them together; ``python -m apps.<name>`` alone.

Each app module defines ``build() -> gr.Blocks`` (layout and wiring only; logic lives in ``core``)
and may define ``CSS`` (a string). Apps that have not landed yet are simply absent from the lab.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppInfo:
    """How the lab shell lists an app."""

    slug: str  # tab id and api_name prefix, e.g. "tokenizers"
    module: str  # importable module path
    title: str
    tagline: str  # one line for the home page
    chapters: str  # book chapters, e.g. "Ch. 2"
    emoji: str


APPS: tuple[AppInfo, ...] = (
    AppInfo("tokenizers", "apps.tokenizer_arena", "Tokenizer Arena",
            "See how real tokenizers cut the same text — side by side, byte by byte.", "Ch. 2", "🔤"),
    AppInfo("classifiers", "apps.classifier_zoo", "Classifier Zoo",
            "Every way the book classifies text, compared on the same data.", "Ch. 4, 11", "🏷️"),
    AppInfo("topics", "apps.topic_explorer", "Topic Explorer",
            "Upload a CSV and find topics you can see and steer with BERTopic.", "Ch. 5", "🗺️"),
    AppInfo("prompts", "apps.prompt_lab", "Prompt Lab",
            "See the prompt the model really gets, steer sampling, try prompting techniques.", "Ch. 3, 6, 7", "🧪"),
    AppInfo("rag", "apps.rag_chat", "RAG Chat",
            "Chat with your documents, with every retrieval step visible and cited.", "Ch. 8", "📚"),
    AppInfo("vision", "apps.multimodal_captioner", "Multimodal Captioner",
            "Zero-shot image labels, image–text similarity, captions and questions.", "Ch. 9", "🖼️"),
    AppInfo("arena", "apps.eval_arena", "Pairwise Eval Arena",
            "Anonymous side-by-side battles, durable votes, a leaderboard with confidence intervals.", "Ch. 12", "⚔️"),
)


def available_apps() -> list[tuple[AppInfo, ModuleType]]:
    """The apps whose module exists, imported, in the lab's order."""
    found = []
    for info in APPS:
        try:
            module = importlib.import_module(info.module)
        except ModuleNotFoundError as exc:
            if exc.name == info.module:  # not landed yet: simply absent
                continue
            raise
        found.append((info, module))
    return found


def info(slug: str) -> AppInfo:
    return next(a for a in APPS if a.slug == slug)

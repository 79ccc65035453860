"""Multimodal Captioner core (book ch. 9): CLIP, BLIP/BLIP-2 and the offline fallback.

Importing this package is light (no torch): it registers the catalogue load functions for the
``clip``, ``blip``, ``blip2`` and ``efficientnet`` entries; the heavy modules are imported when a
feature runs. Public entry points live in :mod:`core.vision.service`.
"""
from __future__ import annotations

from typing import Any

from core.catalogue import ModelEntry
from core.loader import register_loader
from core.settings import Settings


def _hub_only(entry: ModelEntry, settings: Settings) -> None:
    if settings.offline:
        from core.errors import ModelUnavailable

        raise ModelUnavailable(f"{entry.label or entry.name} has no offline copy (no package ships its weights).",
                               hint="Set LLM_LAB_MODE=hub on a machine that reaches the Hugging Face Hub.")


def _load_clip(entry: ModelEntry, settings: Settings) -> Any:
    _hub_only(entry, settings)
    from core.vision.clip import load_clip

    return load_clip(entry.hub_id, entry.hub_revision)


def _load_blip(entry: ModelEntry, settings: Settings) -> Any:
    _hub_only(entry, settings)
    from core.vision.blip import load_blip

    return load_blip(entry.hub_id, entry.hub_revision)


def _load_blip2(entry: ModelEntry, settings: Settings) -> Any:
    _hub_only(entry, settings)
    from core.vision.blip import load_blip2

    return load_blip2(entry.hub_id, entry.hub_revision)


def _load_efficientnet(entry: ModelEntry, settings: Settings) -> Any:
    from core.vision.offline import load_efficientnet

    return load_efficientnet(entry, settings)


register_loader("clip", _load_clip)
register_loader("blip", _load_blip)
register_loader("blip2", _load_blip2)
register_loader("efficientnet", _load_efficientnet)

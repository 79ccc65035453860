"""The book's built-in examples, read from ``assets/prompts/examples.json`` (shipped with the repo)."""
from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from core.errors import LabError

FILE = Path(__file__).resolve().parents[2] / "assets" / "prompts" / "examples.json"


@functools.lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(FILE.read_text(encoding="utf-8"))


def examples() -> list[dict[str, Any]]:
    return copy.deepcopy(_data()["examples"])


def example(example_id: str) -> dict[str, Any]:
    for ex in _data()["examples"]:
        if ex["id"] == example_id or ex["title"] == example_id:
            return copy.deepcopy(ex)
    raise LabError(f"Unknown example {example_id!r}.")


def components() -> dict[str, str]:
    return dict(_data()["components"])


def chain_steps() -> list[str]:
    return list(_data()["chain"])


def presets() -> dict[str, dict[str, float]]:
    return copy.deepcopy(_data()["presets"])

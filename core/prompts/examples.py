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


def _norm(text: str) -> str:
    return " ".join((text or "").lower().replace("…", " ").replace("...", " ").split())


def expected_answer(question: str) -> str | None:
    """The known answer of the book example whose question this is (its ``expected_answer``), or None.

    A question matches an example when one starts with the other over at least 20 characters, so a
    shortened or lightly edited copy of the book's question still finds its answer."""
    q = _norm(question)
    if len(q) < 20:
        return None
    for ex in _data()["examples"]:
        if "expected_answer" not in ex:
            continue
        asked = _norm(ex["messages"][-1]["content"])
        if asked.startswith(q) or q.startswith(asked):
            return str(ex["expected_answer"])
    return None


def constraint_example(label: str) -> tuple[str, str]:
    """(prompt, spec) to start the Constrained tab with for a constraint kind label."""
    if label == "Choice":
        return "Is 'A dull, lifeless film.' positive or negative?", "positive\nnegative"
    if label == "Regex":
        return "When was the first moon landing? Answer as YYYY-MM-DD.", r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    ex = example("rpg-json")
    return ex["messages"][-1]["content"], json.dumps(ex["constraint"]["spec"], indent=2)


def example_fill(example_id: str) -> dict[str, Any]:
    """What loading a book example sets: prompt, earlier turns, chat on/off, greedy, max_new_tokens."""
    ex = example(example_id)
    msgs = ex["messages"]
    params = ex.get("params", {})
    earlier = [m for m in msgs[:-1] if m["role"] != "system"]
    return {"prompt": msgs[-1]["content"], "earlier": earlier, "keep_chat": bool(earlier),
            "greedy": bool(params.get("greedy", False)), "max_new_tokens": int(params.get("max_new_tokens", 64)),
            "title": ex["title"], "source": ex["source"], "book_output": ex.get("book_output", "")}

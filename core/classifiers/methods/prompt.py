"""Prompts and reply parsing shared by the generative and the OpenAI-compatible methods."""
from __future__ import annotations

import re
from typing import Sequence

from core.classifiers.methods.base import DEFAULT_PROMPT, UNPARSED
from core.errors import LabError

__all__ = ["BOOK_PROMPT", "DEFAULT_PROMPT", "PARSE_RULE", "fill_prompt", "parse_reply"]

BOOK_PROMPT = (  # the book's ChatGPT template (ch. 4), for the OpenAI-compatible method
    "Predict whether the following document is a positive or negative movie review:\n\n"
    "[DOCUMENT]\n\n"
    "If it is positive return 1 and if it is negative return 0. Do not give any other answers."
)
PARSE_RULE = (
    "Parsing rule: the reply is lower-cased and the class whose answer word appears first in it wins "
    "(a bare number i picks the i-th class, 0-based, as in the book's ChatGPT prompt). For the book's "
    "two classes this is its T5 rule ('negative' → 0, else 1). If no answer word appears, the reply "
    f"counts as {UNPARSED} (wrong); the Hub's flan-t5 falls back to the class whose answer word's first "
    "token it scored highest. With 'calibrate' on (default offline: SmolLM2-135M answers one word for "
    "everything), the label is instead the class whose answer word's first token is most likely after "
    "dividing by its probability for the content-free input 'N/A' (contextual calibration); the card "
    "shows both what the model said and what calibration made of it. Without calibration the local "
    "model only needs text, so it runs on the lab's default engine (llama.cpp on CPU)."
)


def fill_prompt(template: str, text: str, words: Sequence[str]) -> str:
    """``template`` with [DOCUMENT] = ``text`` and [LABELS] = the answer words ("a or b")."""
    if "[DOCUMENT]" not in template:
        raise LabError("The prompt must contain [DOCUMENT] where the text goes.")
    if len(words) == 2:
        label_list = f"{words[0]} or {words[1]}"
    else:
        label_list = ", ".join(words[:-1]) + f" or {words[-1]}"
    return template.replace("[LABELS]", label_list).replace("[DOCUMENT]", text)


def parse_reply(reply: str, words: Sequence[str], classes: Sequence[str]) -> str | None:
    """The class whose answer word appears first in ``reply``; a bare index also works; else None."""
    low = reply.strip().lower()
    best: tuple[int, int] | None = None
    for i, w in enumerate(words):
        m = re.search(r"(?<![a-z0-9])" + re.escape(w.lower()) + r"(?![a-z0-9])", low)
        if m and (best is None or m.start() < best[0] or (m.start() == best[0] and len(w) > len(words[best[1]]))):
            best = (m.start(), i)
    if best is not None:
        return classes[best[1]]
    m = re.match(r"^\W*(\d+)\W*$", low)
    if m and int(m.group(1)) < len(classes):
        return classes[int(m.group(1))]
    return None

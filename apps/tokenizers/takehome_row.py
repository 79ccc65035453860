"""The Tokenizer Arena's take-home row: a link to the text, tokenizers, id view and tab (the arena's
older ``?text=…&tok=…&ids=1`` share links open the same way; long texts go in a stored link), the
comparison as JSON, and the notebook (:mod:`core.tokenizers.notebook`). A link is read on page load
and the comparison recomputed; a broken link says why in the row and the page opens with the defaults."""
from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from apps.common import error_html
from apps.common.takehome import TakeHome, restore, takehome
from core.errors import LabError
from core.tokenizers import compare as core_arena
from core.tokenizers.notebook import TABS
from core.tokenizers.results import link_state as tokenizer_state
from core.tokenizers.results import results as tokenizer_results
from core.tokenizers.share import restore as restore_inputs
from apps.tokenizers import MANIFEST

SLUG = "tokenizers"
#: tab labels (as a Tabs select event names them) → link values
LABELS = {"Compare": "compare", "Chat template": "chat", "Language cost": "cost", "Decode ids": "decode",
          "Explainers": "explain"}


def link_state(text: str, selected: list[str], extra: str, show_ids: bool, tab: str) -> dict[str, Any]:
    return tokenizer_state(text, selected, extra, show_ids, tab)


def results(text: str, selected: list[str], extra: str, show_ids: bool, tab: str) -> tuple[str, bytes]:
    return tokenizer_results(tokenizer_state(text, selected, extra, show_ids, tab))


def make_notebook(text: str, selected: list[str], extra: str, show_ids: bool, tab: str) -> Any:
    from core.tokenizers.notebook import notebook

    state = tokenizer_state(text, selected, extra, show_ids, tab)
    if not state["tok"]:
        raise LabError("Pick at least one tokenizer: the notebook loads each one.")
    return notebook(state, app=MANIFEST)


def on_tab(evt: gr.SelectData) -> str:
    """The selected tab's link value (by its label, else by its position)."""
    value = LABELS.get(str(evt.value))
    if value is None and isinstance(evt.index, int) and 0 <= evt.index < len(TABS):
        value = list(TABS)[evt.index]
    return value or "compare"


def on_load(request: gr.Request) -> tuple[Any, ...]:
    """The inputs a link describes (text, tokenizers, Hub ids, id view), the tab and a message."""
    message = ""
    try:
        params = restore(SLUG, request)
    except LabError as exc:
        params, message = {}, error_html(str(exc))
    text, selected, extra, show_ids = restore_inputs(params, core_arena.book_sample())
    tab = str(params.get("tab") or "compare")
    tab = tab if tab in TABS else "compare"
    return (text, selected, extra, show_ids, gr.Tabs(selected=TABS[tab]), tab, message)


def build(demo: gr.Blocks, inputs: list[Any], tabs: gr.Tabs, then_compare: Callable[[Any], Any]) -> TakeHome:
    """The row, the tab tracker and the link restore on page load (``inputs``: text, selected, extra,
    show ids; ``then_compare(event)`` chains the comparison after the restore)."""
    tab = gr.State("compare")
    row = takehome(SLUG, [*inputs, tab], link_state=link_state, results=results, notebook=make_notebook)
    tabs.select(on_tab, None, tab, api_visibility="private", queue=False, show_progress="hidden")
    then_compare(demo.load(on_load, None, [*inputs, tabs, tab, row.message], api_visibility="private"))
    return row

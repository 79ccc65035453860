"""The arena's take-home row: a link to the room and the leaderboard's settings (``?room=CODE&k=8…``;
the instructor key never goes in a link), the leaderboard as CSV with provenance, and a notebook that
rates the contestants from the exported votes (:mod:`core.arena.notebook`). In an instructor's room
the download and notebook, like the board and exports, are for the key holder only."""
from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from apps.common import error_html
from apps.common.takehome import TakeHome, restore, takehome
from core.arena import access as acl
from core.arena import results as ares
from core.errors import LabError
from apps.arena import MANIFEST

SLUG = "arena"


def _votes(arena: Any, room: str, key: str) -> tuple[list[Any], str]:
    acc = acl.for_instructor(arena.rooms, room, key)
    return arena.store.votes(acc.room), acc.room


def build(get_arena: Callable[[], Any], demo: gr.Blocks, room: Any, board: list[Any], key: Any) -> TakeHome:
    """The row and the board settings' restore on page load (``board``: include flagged, length control,
    K, include named; the room itself is read by the page's own load)."""

    def link_state(room_: str, flagged: bool, length: bool, k: float, named: bool, _key: str) -> dict[str, Any]:
        return ares.link_state(room_, flagged, length, k, named)

    def results(room_: str, flagged: bool, length: bool, k: float, named: bool, key_: str) -> tuple[str, bytes]:
        arena = get_arena()
        votes, code = _votes(arena, room_, key_)

        def model_of(cid: str) -> str | None:
            c = arena.by_id.get(cid)
            return c.model if c is not None and c.backend == "local" else None

        return ares.results(votes, {**ares.link_state(code, flagged, length, k, named)}, arena.label, model_of)

    def make_notebook(room_: str, flagged: bool, length: bool, k: float, named: bool, key_: str) -> Any:
        from core.arena.notebook import notebook

        votes, code = _votes(get_arena(), room_, key_)
        return notebook(votes, {"room": code, "flagged": flagged, "length": length, "k": k, "named": named}, app=MANIFEST)

    def on_load(request: gr.Request) -> list[Any]:
        try:
            state = restore(SLUG, request)
        except LabError as exc:
            return [gr.skip()] * 4 + [error_html(str(exc))]
        if not any(name in state for name in ("flagged", "length", "k", "named")):
            return [gr.skip()] * 4 + [""]
        flagged, length, k, named = ares.board_settings(state)
        return [flagged, length, k, named, ""]

    row = takehome(SLUG, [room, *board, key], link_state=link_state, results=results, notebook=make_notebook)
    demo.load(on_load, None, [*board, row.message], api_visibility="private", queue=False)
    return row

"""Topic Explorer in a workshop room: ``/topics?room=CODE`` opens the room's shared corpus (read only);
the instructor link (``&key=SECRET``) shares a built-in corpus or an uploaded CSV with the room once.
Participants run topic fits on it with their own settings. The key is checked on the server."""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import user_errors
from core.escape import esc

ROOM = "room"  # the Corpus choice "the room's corpus"


def _room(code: str) -> Any:
    from core.rooms import get_rooms
    from core.topics.room import APP

    return get_rooms().require(code, APP, open_only=False)


@user_errors
def load_room(code: str) -> tuple:
    """The table outputs for the room's corpus."""
    from apps.topics.handlers import _table_outputs
    from core.topics.room import room_table

    if not (code or "").strip():
        raise gr.Error("This page is not in a room: choose a corpus.", print_exception=False)
    return _table_outputs(room_table(_room(code)))


def page_table(code: str, key: str = "") -> tuple:
    """The table a page starts with: the room's corpus in a room (the instructor of a room without one yet
    gets the default corpus), else the default corpus, as before rooms."""
    from apps.topics.handlers import load_source
    from core.topics.room import corpus_label

    if (code or "").strip() and not (key and not corpus_label(_room(code))):
        return load_room(code)
    from apps.topics.app import DEFAULT_SOURCE

    return load_source(DEFAULT_SOURCE, None)


def source_update(code: str, key: str, choices: list[tuple[str, str]]) -> tuple:
    """On page load: the Corpus choices (a participant sees only the room's corpus) and the share row."""
    from core.topics.room import corpus_label

    if not (code or "").strip():
        return gr.skip(), gr.update(visible=False)
    room = _room(code)
    label = corpus_label(room)
    mine = (f"Room corpus: {label}" if label else "Room corpus (not shared yet)", ROOM)
    if key:  # the instructor (the key was checked when the page loaded): every corpus, to pick one to share
        return (gr.update(choices=[mine, *choices], value=ROOM) if label else gr.update(choices=[mine, *choices]),
                gr.update(visible=True))
    return gr.update(choices=[mine], value=ROOM), gr.update(visible=False)


@user_errors
def share(source: str, file: Any, code: str, key: str) -> tuple:
    """Instructor: share the selected built-in corpus or the uploaded CSV with the room."""
    from core.rooms import get_rooms
    from core.topics.room import corpus_label, share_builtin, share_upload

    rooms = get_rooms()
    if source == ROOM:
        raise gr.Error("Choose a built-in corpus or upload a CSV first, then share it.", print_exception=False)
    room = share_upload(rooms, code, key, file) if source == "upload" else share_builtin(rooms, code, key, source)
    label = corpus_label(room)
    note = f'<div class="lab-note">Shared with room {esc(room.code)}: {esc(label)}. Participants who open the link now get it.</div>'
    from apps.topics.app import _source_choices

    return note, gr.update(choices=[(f"Room corpus: {label}", ROOM), *_source_choices()])


def what(pr: Any) -> str:
    from core.topics.room import corpus_label

    label = corpus_label(pr.room)
    if pr.instructor:
        return (f"shared corpus: {label}. Pick another corpus and press Share to change it for everyone." if label
                else "no corpus shared yet: pick a built-in corpus or upload a CSV, then press Share with the room.")
    return (f"shared corpus: {label}; your topic settings are your own." if label
            else "your instructor has not shared a corpus yet; reload the page once they have.")

"""Workshop rooms in an app page (RAG Chat, Topic Explorer): the page's room from its link, and the
"open a room" panel that gives an instructor the two links.

Each app creates its own rooms (``core.rooms`` app = the slug): a RAG room shares a document
collection, a topics room a corpus, an arena room its board — different state behind different
instructor actions, so a key opens exactly one room of one app, and the links name the app they open
(``/rag?room=CODE``). The page reads ``?room=CODE[&key=SECRET]`` in ``demo.load``
(:func:`page_room`); every action that changes a room's shared state checks the key on the server
(``RoomStore.instructor``), not only the hidden UI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from apps.common.errors import user_errors
from core.escape import esc
from core.rooms import CLOSED_MEANS, Room, RoomStore, get_rooms, links

BASE_JS = "(b) => window.location.origin + window.location.pathname"
_STYLE = "border-left: 4px solid var(--color-accent); padding: .45rem .8rem; border-radius: 8px; font-size: .92rem"


@dataclass(frozen=True)
class PageRoom:
    room: Room | None  # the room the page opened, None outside rooms (or for an unknown code)
    instructor: bool  # the link carried the room's key
    key: str  # the key, only when valid
    error: str = ""


def page_room(slug: str, request: gr.Request | None, rooms: RoomStore | None = None) -> PageRoom:
    """The room of a page opened with ``?room=CODE[&key=SECRET]`` (unknown codes: no room, with a message)."""
    rooms = rooms or get_rooms()
    params = dict(getattr(request, "query_params", {}) or {})
    code, key = str(params.get("room", "") or "").strip(), str(params.get("key", "") or "")
    if not code:
        return PageRoom(None, False, "")
    room = rooms.get(code, slug)
    if room is None:
        return PageRoom(None, False, "", f"There is no {slug} room “{code[:40]}” on this server: check the link "
                                          "your instructor gave you. This page works on its own, without a room.")
    staff = bool(key) and rooms.is_instructor(room.code, key, slug)
    error = "" if staff or not key else "This instructor link's key is not valid for this room: you are a participant."
    return PageRoom(room, staff, key if staff else "", error)


def banner(slug: str, pr: PageRoom, what: str) -> str:
    """One line saying which room the page is in, as whom, and what the room shares (``what``)."""
    if pr.error and pr.room is None:
        return f'<div class="lab-room-banner warn" style="{_STYLE}">⚠️ {esc(pr.error)}</div>'
    if pr.room is None:
        return ""
    r = pr.room
    title = f" · {esc(r.title)}" if r.title else ""
    who = "instructor" if pr.instructor else "participant"
    warn = f" · ⚠️ {esc(pr.error)}" if pr.error else ""
    closed = " · closed" if r.closed else ""
    return (f'<div class="lab-room-banner room {who}" data-room="{esc(r.code)}" style="{_STYLE}">Room <b>{esc(r.code)}</b>{title} · '
            f"{who}{closed} · {esc(what)}{warn}</div>")


def links_html(code: str, participant: str, instructor: str) -> str:
    return (f'<div class="lab-room-links"><div><b>Room {esc(code)} is open.</b> Give participants this link:</div>'
            f'<code class="lab-room-participant">{esc(participant)}</code>'
            "<div>Keep this instructor link to yourself (it holds the room's secret key; it is shown once):</div>"
            f'<code class="lab-room-instructor">{esc(instructor)}</code></div>')


def create_room(slug: str, title: str, page_url: str, rooms: RoomStore | None = None) -> dict[str, str]:
    """A new room of app ``slug``: its code and the two links (for the page at ``page_url``)."""
    room, key = (rooms or get_rooms()).create(slug, title)
    participant, instructor = links(page_url, room.code, key)
    return {"code": room.code, "participant": participant, "instructor": instructor}


@dataclass
class RoomPanel:
    room: gr.Textbox  # the room code (hidden; '' outside rooms)
    key: gr.Textbox  # the instructor key when valid (hidden)
    base: gr.Textbox  # the page address, for the links
    banner: gr.HTML
    panel: gr.Accordion
    staff: gr.Row  # the instructor's close / reopen controls (shown with a valid key only)


def room_panel(slug: str, what: str) -> RoomPanel:
    """Hidden room/key/page fields and the "open a workshop room" accordion (``what``: what it shares)."""
    page_banner = gr.HTML(elem_id=f"{slug}-room-banner")
    room = gr.Textbox(visible=False, value="", label="room")
    key = gr.Textbox(visible=False, value="", label="instructor key")
    base = gr.Textbox(visible=False, value="", label="page address")
    with gr.Accordion("🧑‍🏫 Workshop room", open=False, elem_id=f"{slug}-room-panel") as panel:
        gr.Markdown(f"**Open a workshop room** for this app: {what} You get a link for participants and an "
                    "instructor link with a secret key; open the instructor link to set up the room.",
                    elem_classes="lab-note")
        with gr.Row():
            title = gr.Textbox(label="Room title (optional)", max_lines=1, scale=4, elem_id=f"{slug}-room-title")
            create = gr.Button("Create a room", scale=1, elem_id=f"{slug}-room-create")
        out = gr.HTML(elem_id=f"{slug}-room-links")

    def _create(t: str, b: str) -> str:
        made = create_room(slug, t, b)
        return links_html(made["code"], made["participant"], made["instructor"])

    def api_create(title: str = "", page_url: str = "") -> dict:
        return create_room(slug, title, page_url)

    create.click(user_errors(_create), [title, base], out, api_visibility="private")
    gr.api(user_errors(api_create), api_name=f"{slug}_room_create")
    with gr.Row(visible=False, elem_id=f"{slug}-room-staff", elem_classes="lab-room-staff") as staff:
        close = gr.Button("Close the room", size="sm", scale=0, elem_id=f"{slug}-room-close")
        reopen = gr.Button("Reopen", size="sm", scale=0, elem_id=f"{slug}-room-reopen")
        state = gr.HTML(elem_id=f"{slug}-room-state")

    def set_closed(code: str, secret: str, closed: bool = True) -> str:
        """Instructor: close (or reopen) this page's room; the key is checked on the server."""
        return room_state_html(slug, set_room_closed(slug, code, secret, closed))

    close.click(user_errors(lambda c, k: set_closed(c, k, True)), [room, key], state, api_visibility="private")
    reopen.click(user_errors(lambda c, k: set_closed(c, k, False)), [room, key], state, api_visibility="private")
    gr.api(user_errors(set_closed), api_name=f"{slug}_room_close")
    return RoomPanel(room, key, base, page_banner, panel, staff)


def set_room_closed(slug: str, code: str, key: str, closed: bool, rooms: RoomStore | None = None) -> Room:
    """Close or reopen room ``code`` of app ``slug`` with its instructor ``key``."""
    rooms = rooms or get_rooms()
    return rooms.close(code, key, slug) if closed else rooms.reopen(code, key, slug)


def room_state_html(slug: str, room: Room) -> str:
    """One line saying whether ``room`` is open or closed, and what closed means for app ``slug``."""
    if room.closed:
        return (f'<div class="lab-note">Room <b>{esc(room.code)}</b> is closed: '
                f'{esc(CLOSED_MEANS.get(slug, "it takes nothing new"))}. Reopen it at any time.</div>')
    return f'<div class="lab-note">Room <b>{esc(room.code)}</b> is open.</div>'


def on_load(slug: str, what: Callable[[PageRoom], str]) -> Callable[..., tuple]:
    """A ``demo.load`` handler: (room, key, base, banner, panel visibility) from the page URL."""
    def load(base: str, request: gr.Request) -> tuple:
        pr = page_room(slug, request)
        code = pr.room.code if pr.room else ""
        return (code, pr.key, base or "", banner(slug, pr, what(pr)), gr.update(visible=pr.room is None),
                gr.update(visible=pr.instructor))
    return load


def wire_load(demo: gr.Blocks, slug: str, rp: RoomPanel, what: Callable[[PageRoom], str]) -> Any:
    """Wire :func:`on_load`; returns the event (chain ``.then`` for what depends on the room)."""
    return demo.load(on_load(slug, what), [rp.base], [rp.room, rp.key, rp.base, rp.banner, rp.panel, rp.staff], js=BASE_JS,
                     api_visibility="private", queue=False)

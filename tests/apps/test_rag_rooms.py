"""RAG Chat in a workshop room (issue 17), through the API with separate sessions: the instructor
uploads the room's collection once; participants ask over it, cannot add to or clear it, keep their
own uploads private; a restart keeps the room and its documents."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

GEN = ["Local model", "chat-smollm2-135m", "", "", ""]


def _serve() -> tuple[Any, Any]:
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from apps.rag.app import CSS, build
    from tests.conftest import free_port

    blocks = build()
    configure_queue(blocks)
    blocks.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                  **launch_kwargs(CSS))
    return blocks, lambda: Client(blocks.local_url, verbose=False, download_files=False)


def _ask(client: Any, question: str, code: str, mode: str = "bm25") -> str:
    return client.submit(question, [], mode, False, 3, 0.0, *GEN, 16, "extractive", code,
                         api_name="/rag_ask").result(timeout=120)[1]


def test_room_collection_two_sessions_and_restart(tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    blocks, app = _serve()
    try:
        teacher, alice, bob = app(), app(), app()
        made = teacher.predict("RAG workshop", "http://lab.example/rag", api_name="/rag_room_create")
        code, key = made["code"], made["instructor"].rsplit("key=", 1)[1]
        assert made["participant"] == f"http://lab.example/rag?room={code}"
        status = teacher.predict("sentence", 2, 0, code, key, api_name="/rag_load_builtin")[0]
        assert "Indexed 4 document(s)" in status
        assert "1990" in _ask(alice, "When was Hubble launched?", code)  # a participant asks the room's documents

        # participants cannot change the room's documents: a wrong key is refused, no key = own session only
        for endpoint, args in (("/rag_load_builtin", ("sentence", 2, 0, code, "guessed")),
                               ("/rag_clear", (code, "guessed")),
                               ("/rag_index", ([], "sentence", 2, 0, code, "guessed"))):
            with pytest.raises(AppError, match="instructor link"):
                alice.predict(*args, api_name=endpoint)
        assert "No documents were loaded" in alice.predict(code, "", api_name="/rag_clear")[0]
        note = tmp_path / "alice-notes.txt"
        note.write_text("Okapis live in the Ituri rainforest. Alice wrote this note for herself.")
        status = alice.predict([handle_file(str(note))], "sentence", 2, 0, code, "", api_name="/rag_index")[0]
        assert "Indexed 5 document(s)" in status  # the room's 4 + her own
        assert "Ituri" in _ask(alice, "Where do okapis live?", code)
        assert "Ituri" not in _ask(bob, "Where do okapis live?", code)  # private to Alice's session
        assert "Cleared your documents" in alice.predict(code, "", api_name="/rag_clear")[0]
        assert "1990" in _ask(alice, "When was Hubble launched?", code)  # the room's documents stayed
        assert "1990" in _ask(bob, "When was Hubble launched?", code)
        # the instructor adds a document for everyone
        memo = tmp_path / "room-memo.txt"
        memo.write_text("The workshop coffee break is at half past ten in the atrium.")
        assert "Indexed 5 document(s)" in teacher.predict([handle_file(str(memo))], "sentence", 2, 0, code, key,
                                                          api_name="/rag_index")[0]
        assert "atrium" in _ask(bob, "Where is the coffee break?", code)
        # the instructor closes the room: nothing new goes in, everyone can still ask; reopening undoes it
        with pytest.raises(AppError, match="instructor link"):
            alice.predict(code, "guessed", True, api_name="/rag_room_close")
        assert "is closed" in teacher.predict(code, key, True, api_name="/rag_room_close")
        with pytest.raises(AppError, match="closed by its instructor: its shared collection takes no new documents"):
            teacher.predict([handle_file(str(memo))], "sentence", 2, 0, code, key, api_name="/rag_index")
        assert "atrium" in _ask(bob, "Where is the coffee break?", code)
        assert "is open" in teacher.predict(code, key, False, api_name="/rag_room_close")
    finally:
        blocks.close()

    # a restart: new server, empty in-memory caches; the room and its documents come back from disk
    from core import rooms
    from core.cache import budget_cache

    budget_cache("rag.collections").clear()
    rooms._stores.clear()
    blocks, app = _serve()
    try:
        carol = app()
        assert "atrium" in _ask(carol, "Where is the coffee break?", code)
        assert "1990" in _ask(carol, "When was Hubble launched?", code)
        assert "Cleared" in app().predict(code, key, api_name="/rag_clear")[0]  # the instructor empties the room
        with pytest.raises(AppError, match="No documents"):
            _ask(carol, "When was Hubble launched?", code)
    finally:
        blocks.close()

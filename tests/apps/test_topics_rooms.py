"""Topic Explorer in a workshop room (issue 17), through the API with separate sessions: the instructor
shares a corpus once (built-in or an uploaded CSV); participants load it and fit topics with their own
settings, cannot change it; a restart keeps it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gradio_client import handle_file

from tests.apps.test_topics import SETTINGS


def _serve() -> tuple[Any, Any]:
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from apps.topics.app import CSS, build
    from tests.conftest import free_port

    demo = build()
    configure_queue(demo)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **launch_kwargs(CSS))
    return demo, lambda: Client(demo.local_url, verbose=False, download_files=False)


def _csv(path: Path) -> Path:
    topics = {"cooking": "pasta sauce garlic oven recipe", "football": "goal match striker league referee",
              "space": "rocket orbit launch astronaut moon"}
    rows = [f"{words.split()[i % 5]} and {words} story number {i},{name}" for name, words in topics.items()
            for i in range(30)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_room_corpus_two_sessions_and_restart(tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    demo, app = _serve()
    try:
        teacher, alice = app(), app()
        made = teacher.predict("Topics workshop", "http://lab.example/topics", api_name="/topics_room_create")
        code, key = made["code"], made["instructor"].rsplit("key=", 1)[1]
        assert made["participant"] == f"http://lab.example/topics?room={code}"
        with pytest.raises(AppError, match="not shared a corpus"):
            alice.predict(code, api_name="/topics_room_load")
        assert "Shared with room" in teacher.predict("sample", None, code, key, api_name="/topics_room_share")[0]
        preview = alice.predict(code, api_name="/topics_room_load")[-1]
        assert "239" in preview or "sample" in preview.lower()
        # participants cannot change the room's corpus
        for args in (("news", None, code, ""), ("news", None, code, "guessed"),
                     ("upload", handle_file(str(_csv(tmp_path / "mine.csv"))), code, "guessed")):
            with pytest.raises(AppError, match="instructor link"):
                alice.predict(*args, api_name="/topics_room_share")
        shared = _csv(tmp_path / "workshop-reviews.csv")
        teacher.predict("upload", handle_file(str(shared)), code, key, api_name="/topics_room_share")
        text_col, _time, class_col, preview = alice.predict(code, api_name="/topics_room_load")
        assert "workshop-reviews.csv" in preview and text_col["value"] == "text"
        settings = list(SETTINGS)
        settings[6] = 5  # Alice's own min_cluster_size
        out = alice.predict("text", "(none)", "(none)", *settings, api_name="/topics_run")
        assert "topic" in str(out[0]).lower()
        assert "is closed" in teacher.predict(code, key, True, api_name="/topics_room_close")
        with pytest.raises(AppError, match="its shared corpus can no longer be replaced"):
            teacher.predict("sample", None, code, key, api_name="/topics_room_share")
        assert "workshop-reviews.csv" in alice.predict(code, api_name="/topics_room_load")[-1]  # still readable
        assert "is open" in teacher.predict(code, key, False, api_name="/topics_room_close")
    finally:
        demo.close()

    from core import rooms

    rooms._stores.clear()  # a restart: the room and its corpus come back from the database and the data folder
    demo, app = _serve()
    try:
        preview = app().predict(code, api_name="/topics_room_load")[-1]
        assert "workshop-reviews.csv" in preview
    finally:
        demo.close()

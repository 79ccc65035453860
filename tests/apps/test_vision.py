"""The Multimodal Captioner served for real, driven through gradio_client (offline mode)."""
from __future__ import annotations

import pytest
from gradio_client import handle_file

from apps.vision.app import CSS, build
from core.vision.images import builtin_path


@pytest.fixture(scope="module")
def served():
    import gradio as gr  # noqa: F401
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from tests.conftest import free_port

    demo = build()
    configure_queue(demo)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **launch_kwargs(CSS))
    yield Client(demo.local_url, verbose=False, download_files=False)
    demo.close()


def _rows(table: dict) -> list[dict]:
    return [dict(zip(table["headers"], row)) for row in table["data"]]


def test_api_lists_vision_endpoints(served) -> None:
    names = set(served.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/vision_labels", "/vision_similarity", "/vision_view", "/vision_caption", "/vision_ask"} <= names


def test_labels_on_builtin_and_uploaded_photo(served) -> None:
    plot, table, compare, info, status = served.predict(
        ["cat"], [handle_file(str(builtin_path("coffee")))], None, "cat, car, cup of coffee", "a photo of a {}",
        "a photo of a {}\n{}", api_name="/vision_labels")
    rows = _rows(table)
    best = {r["image"]: r["label"] for r in rows if r == next(x for x in rows if x["image"] == r["image"])}
    assert best == {"cat": "cat", "coffee.png": "cup of coffee"}
    cat = {r["label"]: r["probability"] for r in rows if r["image"] == "cat"}
    assert cat["cat"] > cat["car"]
    assert "offline proxy" in info and "EfficientNet-Lite0" in info and "not CLIP" in info
    assert plot is not None and compare is not None
    assert "Done in" in status  # the job runner's status line


def test_bad_inputs_show_messages(served) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="label list is empty"):
        served.predict(["cat"], None, None, " , ", "a photo of a {}", "", api_name="/vision_labels")
    with pytest.raises(AppError, match="placeholder"):
        served.predict(["cat"], None, None, "cat, car", "a photo", "", api_name="/vision_labels")
    with pytest.raises(AppError, match="No image given"):
        served.predict([], None, None, "cat, car", "a photo of a {}", "", api_name="/vision_labels")


def test_similarity_view_and_ask(served) -> None:
    plot, info, _status = served.predict(["cat", "coffee"], None, None, "a cat\na cup of coffee", api_name="/vision_similarity")
    assert "cat → “a cat”" in info and "coffee → “a cup of coffee”" in info and "not CLIP" in info
    gallery, html = served.predict(["rocket"], None, None, api_name="/vision_view")
    assert len(gallery) == 3 and "EfficientNet-Lite0" in html and "[1, 3, 224, 224]" in html
    html, cleared = served.predict(["cat"], None, None, "What is <b>this</b>?", api_name="/vision_ask")
    assert "needs BLIP-2" in html and "Question: What is &lt;b&gt;this&lt;/b&gt;? Answer:" in html
    assert cleared == ""  # the question box is cleared for the next turn


def test_offline_caption_endpoint(served) -> None:
    html, table, _status = served.predict(["coffee"], None, None, "offline-smollm2", 1, api_name="/vision_caption")
    rows = _rows(table)
    assert len(rows) == 1 and rows[0]["rank"] == 1 and rows[0]["caption"]
    assert "not BLIP" in html and "vision-cap" in html


def test_offline_choices_offer_only_what_runs() -> None:
    """Offline the caption dropdown holds the one model that runs; questions are off, with the reason."""
    from core.vision.availability import OFFLINE_CAPTIONER, caption_choices, vqa_reason

    choices, default, why = caption_choices()
    assert [v for _, v in choices] == [OFFLINE_CAPTIONER] and default == OFFLINE_CAPTIONER
    assert "hub mode" in why and "BLIP" in why
    assert "BLIP-2" in vqa_reason()
    demo = build()
    config = demo.get_config_file()
    comps = {c.get("props", {}).get("elem_id"): c["props"] for c in config["components"]}
    assert comps["vision-ask-btn"]["interactive"] is False
    assert comps["vision-question"]["interactive"] is False
    assert [c[1] for c in comps["vision-cap-model"]["choices"]] == [OFFLINE_CAPTIONER]
    assert "hub mode" in comps["vision-cap-model"]["info"]

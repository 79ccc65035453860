"""Every app's take-home row through gradio_client: ``<slug>_link`` gives a link to the app's own page
that opens again, ``<slug>_download`` a file under a provenance header, ``<slug>_notebook`` a valid
nbformat notebook (checked, not executed). The inputs are each page's defaults; an app whose download
needs a result first gets the cheapest one (a fake OpenAI-compatible server answers), or its message."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fake_openai import FakeOpenAI


def defaults(client: Any, api: str, **override: Any) -> list[Any]:
    """The endpoint's arguments at the page's defaults (``param_<i>=value`` overrides by position name)."""
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][api]["parameters"]
    values = {p["parameter_name"]: p["parameter_default"] if p["parameter_has_default"] else None for p in params}
    assert set(override) <= set(values), set(override) - set(values)
    return list({**values, **override}.values())


def _file(out: tuple[Any, str]) -> Path:
    from apps.common.takehome import _OUT

    update, message = out
    value = update.get("value", update) if isinstance(update, dict) else update
    assert value, message  # a visible file, else the message says why not
    path = Path(value["path"] if isinstance(value, dict) else value)
    assert _OUT not in path.parents, path  # Gradio serves its own copy: the take-home folder may be swept
    return path


def _provenance(name: str, data: bytes) -> dict[str, Any] | None:
    """The provenance block of a JSON (its "provenance" key), a CSV (its ``# key: value`` lines) or a zip."""
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            found = [_provenance(n, zf.read(n)) for n in zf.namelist()]
        return next((b for b in found if b), None)
    if name.endswith(".json"):
        doc = json.loads(data)
        return doc.get("provenance") if isinstance(doc, dict) else None
    if name.endswith(".csv"):
        block = {}
        for line in data.decode("utf-8").splitlines():
            if not line.startswith("# "):
                break
            key, value = line[2:].split(": ", 1)
            block[key] = json.loads(value)
        return block or None
    return None


def check_link(client: Any, slug: str, args: list[Any]) -> dict[str, Any]:
    """The link points at /<slug> and opens again as the state it holds; returns that state."""
    from core.links import open_link

    update, note = client.predict(*args, api_name=f"/{slug}_link")
    assert update.get("visible") and "lab-note" in note, note
    url = urlsplit(update["value"])
    assert url.scheme == "http" and url.path == f"/{slug}", update["value"]
    return open_link(slug, dict(parse_qsl(url.query)))


def check_download(client: Any, slug: str, args: list[Any]) -> Path:
    path = _file(client.predict(*args, api_name=f"/{slug}_download"))
    block = _provenance(path.name, path.read_bytes())
    assert block and block["lab"] == "LLM Lab" and block["app"] == slug, (path.name, block)
    assert block["lab_version"] and block["mode"] == "offline" and "parameters" in block
    return path


def check_notebook(client: Any, slug: str, args: list[Any]) -> dict[str, Any]:
    import nbformat

    path = _file(client.predict(*args, api_name=f"/{slug}_notebook"))
    assert path.suffix in (".ipynb", ".zip"), path
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith(".ipynb")]
            assert len(names) == 1, zf.namelist()
            raw = zf.read(names[0]).decode("utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    nbformat.validate(nb)
    assert any(c.cell_type == "code" and c.source.strip() for c in nb.cells)
    return json.loads(raw)


def check_refused(client: Any, slug: str, action: str, args: list[Any], message: str) -> None:
    update, html = client.predict(*args, api_name=f"/{slug}_{action}")
    assert update.get("visible") is False and "lab-error" in html and message in html, html


def test_tokenizers(launch: Any) -> None:
    from apps.tokenizers.app import CSS, build

    client, _ = launch(build(), CSS)
    args = defaults(client, "/tokenizers_link")
    args[1] = ["gpt2", "bert-base-uncased"]  # two tokenizers load faster than the page's default five
    state = check_link(client, "tokenizers", args)
    assert state["tok"].split(",") == ["gpt2", "bert-base-uncased"]
    check_download(client, "tokenizers", args)
    check_notebook(client, "tokenizers", args)


def test_classifiers(launch: Any) -> None:
    from apps.classifiers.app import CSS, build

    client, _ = launch(build(), CSS)
    args = defaults(client, "/classifiers_link", param_4=20, param_5=40, param_6=["tfidf"])  # test, train, methods
    assert check_link(client, "classifiers", args)["methods"] == "tfidf"
    check_refused(client, "classifiers", "download", args, "Evaluate the chosen methods first")
    summary = client.predict(*args, api_name="/classifiers_evaluate")[0]
    assert "1/1 methods ran" in summary, summary
    check_download(client, "classifiers", args)
    check_notebook(client, "classifiers", args)


def test_topics(launch: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    from apps.topics.app import CSS, build

    csv = tmp_path / "tiny.csv"  # a handful of documents: the notebook embeds its corpus
    csv.write_text("text\n" + "\n".join(f"Document number {i} is about {w}." for i, w in
                                        enumerate(["cats", "dogs", "rockets", "planets", "coffee", "tea"] * 2)),
                   encoding="utf-8")
    client, _ = launch(build(), CSS)
    args = defaults(client, "/topics_link", param_0="upload", param_1=handle_file(str(csv)))
    state = check_link(client, "topics", args)
    assert state["corpus"] == "upload" and "Document number 3" in state["csv"]
    check_refused(client, "topics", "download", args, "Find topics first")
    nb = check_notebook(client, "topics", args)
    assert "embeddings.npy" in json.dumps(nb)


def test_prompts(launch: Any) -> None:
    from apps.prompts.app import CSS, build

    client, _ = launch(build(), CSS)
    args = defaults(client, "/prompts_link")
    assert check_link(client, "prompts", args)["prompt"] == args[5]
    check_refused(client, "prompts", "download", args, "press Generate")
    with FakeOpenAI(reply="Why did the chicken cross the road?") as server:
        args[:5] = ["OpenAI-compatible server", args[1], server.base_url, "fake-model", ""]  # the backend picker
        client.submit(kind=args[0], base_url=server.base_url, remote_model="fake-model",
                      api_name="/prompts_generate").result(timeout=60)
        doc = json.loads(check_download(client, "prompts", args).read_text(encoding="utf-8"))
    assert doc["output"] == "Why did the chicken cross the road?"
    check_notebook(client, "prompts", args)


def test_rag(launch: Any) -> None:
    from apps.rag.app import CSS, build

    client, _ = launch(build(), CSS)
    args = defaults(client, "/rag_link")
    assert check_link(client, "rag", args)["mode"] == "hybrid"
    check_refused(client, "rag", "notebook", args, "Load documents first")
    check_refused(client, "rag", "download", args, "ask a question on the Chat tab first")
    client.predict("sentence", 2, 0, api_name="/rag_load_builtin")
    question = "how precise was the science"
    with FakeOpenAI(reply="Astronomers praised its precision [1].") as server:
        args = defaults(client, "/rag_link", param_1=question, param_2="dense", param_10="OpenAI-compatible server",
                        param_12=server.base_url, param_13="fake-model")  # question, retrieval, the backend picker
        client.submit(question=question, mode="dense", kind=args[9], base_url=server.base_url,
                      remote_model="fake-model", api_name="/rag_ask").result(timeout=120)
        doc = json.loads(check_download(client, "rag", args).read_text(encoding="utf-8"))
    assert doc["chat"][-1]["answer"].startswith("Astronomers praised its precision")
    check_notebook(client, "rag", args)


def test_vision(launch: Any) -> None:
    from apps.vision.app import CSS, build

    client, _ = launch(build(), CSS)
    args = defaults(client, "/vision_link")
    assert check_link(client, "vision", args)["builtins"] == ",".join(args[0])
    check_download(client, "vision", args)
    check_notebook(client, "vision", args)


def test_arena(launch: Any, tmp_path: Path) -> None:
    from apps.arena.app import CSS, build
    from core.arena.battles import Arena
    from core.arena.contestants import parse_config
    from core.arena.store import ArenaStore
    from core.storage import Database

    with FakeOpenAI(reply="Four.") as s1, FakeOpenAI(reply="It is 4") as s2:
        cfg = {"contestants": [
            {"id": "a", "label": "A", "backend": "openai", "base_url": s1.base_url, "model": "a", "offline": True},
            {"id": "b", "label": "B", "backend": "openai", "base_url": s2.base_url, "model": "b", "offline": True}]}
        arena = Arena(parse_config(cfg, offline=True), store=ArenaStore(Database(tmp_path / "a.sqlite3")),
                      max_new_tokens=8, seed=1)
        client, _ = launch(build(arena), CSS)
        args = defaults(client, "/arena_link", param_0="room-1")
        assert check_link(client, "arena", args)["room"] == "room-1"
        check_refused(client, "arena", "download", args, "No votes in this room yet")
        for winner in ("model_a", "tie"):
            token = client.submit("What is 2+2?", "room-1", api_name="/arena_battle").result(timeout=60)[0]
            client.predict(token, winner, api_name="/arena_vote")
        check_download(client, "arena", args)
        check_notebook(client, "arena", args)


def test_take_home_files_and_restored_images_sweep_old_folders(tmp_path: Path, monkeypatch: Any) -> None:
    import base64
    import os
    import tempfile
    import time

    from apps.common import takehome
    from apps.vision import takehome_row as vision_row
    from core.tempfiles import MAX_AGE_S

    def old_folder(path: Path) -> Path:
        path.mkdir(parents=True)
        os.utime(path, (time.time() - MAX_AGE_S - 60,) * 2)
        return path

    monkeypatch.setattr(takehome, "_OUT", tmp_path / "takehome")
    stale = old_folder(tmp_path / "takehome" / "th-stale")
    written = Path(takehome._write("results.json", b"{}"))
    assert written.read_bytes() == b"{}" and written.parent.parent == tmp_path / "takehome"
    assert not stale.exists()

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    stale = old_folder(tmp_path / "tmp" / "llm-lab-vision-link-stale")
    png = base64.b64encode(b"\x89PNG fake").decode()
    files = vision_row._restored({"images": [{"name": "cat.png", "png": png}]})[1]
    assert [Path(f).name for f in files] == ["cat.png"] and Path(files[0]).parent.parent == tmp_path / "tmp"
    assert not stale.exists()


def test_every_app_is_covered() -> None:
    from apps import SLUGS

    assert {f"test_{slug}" for slug in SLUGS} <= set(globals()), SLUGS

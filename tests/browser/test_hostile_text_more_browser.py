"""Hostile text in every other place user text is shown: tables, chat, leaderboards, captions, labels.

Each test drives one app in chromium with HTML/JS payloads, Markdown injection and a 3,000-character
unbroken word (see :mod:`tests.browser.hostile`), then checks that nothing ran, nothing was injected,
the text is shown literally and the page does not scroll sideways. Model calls go to a fake
OpenAI-compatible server (or to fast offline models) so the whole file stays quick on 2 cores.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.hostile import HOSTILE, IMG, LONG, MD_IMG, MD_LINK, PAYLOADS, SCRIPT, SVG, assert_inert, watch
from tests.conftest import screenshot
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _warm_topic_pipeline(request: Any) -> None:
    """Compile UMAP/HDBSCAN's numba code (~30 s once per process) in the background while the other
    tests wait on their browsers, so the Topic Explorer test (last in this file) does not pay for it."""
    if any("topic_explorer" in item.name for item in request.session.items):
        from core.topics.warmup import warm_in_background

        warm_in_background()


def _textbox(page: Any, elem_id: str) -> Any:
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def _wait_text(page: Any, scope: str, text: str, timeout: int = 60_000) -> None:
    """Wait until ``text`` is part of the rendered text of ``scope`` (tables render cells lazily)."""
    page.wait_for_function("([sel, t]) => [...document.querySelectorAll(sel)].some(e => e.innerText.includes(t))",
                           arg=[scope, text], timeout=timeout)


# --------------------------------------------------------------------------------------------
# RAG Chat: uploaded document → status, chunk table, sources; hostile question and answer in the chat
# --------------------------------------------------------------------------------------------

def test_rag_chat_document_question_and_answer(launch: Any, page: Any, tmp_path: Path) -> None:
    from apps.rag.app import CSS, SLUG, build
    from apps.launch import standalone

    doc = tmp_path / (SVG + ".txt")  # the file name is shown too (stats, chunk table, source cards)
    doc.write_text("Okapis eat leaves, grasses, fruit and fungi.\n\n" + HOSTILE + "\n\nOkapis eat " + LONG
                   + "\n\nThe okapi lives in the rainforests of the Congo.\n", encoding="utf-8")
    answer = f"Okapis eat leaves [1]. {HOSTILE} {LONG}"
    with FakeOpenAI(reply=answer) as server:
        _, url = launch(standalone(build, SLUG, CSS), CSS)
        w = watch(page)
        page.goto(url)
        page.locator("#rag-files input[type=file]").set_input_files(str(doc))
        page.locator("#rag-files").get_by_text("svg onload").first.wait_for(timeout=30_000)
        page.locator("#rag-strategy").get_by_text("by paragraph").click()
        page.get_by_label("Chunk size (units)").fill("1")
        page.locator("#rag-index").click()
        page.locator("#rag-status .rag-ok").wait_for(timeout=120_000)
        page.locator("#rag-chunks").get_by_text("onerror").first.wait_for(timeout=30_000)
        assert_inert(page, "#rag-chunks", w, expect=PAYLOADS)
        assert_inert(page, "#rag-status", w)
        assert_inert(page, "#rag-stats", w, expect=["svg onload=window.__pwned=1.txt"])  # gradio drops <>"
        screenshot(page, "hostile-rag-documents")

        page.get_by_role("tab", name="2 · Chat").click()
        page.locator("#rag-mode").get_by_text("BM25 (keywords)").click()
        page.get_by_text("Model", exact=True).click()
        page.get_by_label("OpenAI-compatible server").check()
        page.get_by_label("Base URL").fill(server.base_url)
        page.get_by_label("Server model").fill("fake-model")
        box = page.locator("#rag-question textarea")
        box.fill(f"{HOSTILE} What do okapis eat?")
        box.press("Enter")
        page.locator("#rag-chatbot a.rag-cite").first.wait_for(timeout=120_000)
        page.locator("#rag-sources .rag-src").first.wait_for(timeout=30_000)
        assert server.requests, "the fake model was not asked"
        assert_inert(page, "#rag-chatbot", w, expect=[*PAYLOADS, "What do okapis eat?"], long_text=True)
        assert_inert(page, "#rag-sources", w, expect=PAYLOADS, long_text=True)
        # the app's own citation link survives and points into the page
        assert (page.locator("#rag-chatbot a.rag-cite").first.get_attribute("href") or "").startswith("#rag-src-")
        page.locator("#rag-chatbot").hover()
        page.mouse.wheel(0, -20_000)
        page.wait_for_timeout(500)
        screenshot(page, "hostile-rag-chat")  # the chat scrolled back to the (hostile) question


# --------------------------------------------------------------------------------------------
# Eval Arena: the prompt echoed in both answers, the reveal, the leaderboard and the live table
# --------------------------------------------------------------------------------------------

def test_arena_battle_reveal_leaderboard_live(launch: Any, page: Any, tmp_path: Path) -> None:
    from apps.arena.app import CSS, build
    from apps.launch import standalone
    from core.arena.battles import Arena
    from core.arena.contestants import parse_config
    from core.arena.store import ArenaStore
    from core.storage import Database
    from tests.browser.test_arena_browser import DEMO_KEY, demo_room

    def echo(request: dict) -> str:  # a model that repeats the prompt: the prompt is shown in both answers
        return "You asked: " + request["messages"][-1]["content"]

    hostile_label = f"{IMG} {MD_IMG} bot"  # contestant labels come from the config, shown in several places
    with FakeOpenAI(reply=echo) as s1, FakeOpenAI(reply=echo) as s2:
        cfg = {"contestants": [
            {"id": "a", "label": hostile_label, "backend": "openai", "base_url": s1.base_url, "model": "a",
             "offline": True},
            {"id": "b", "label": f"{SVG} {SCRIPT}", "backend": "openai", "base_url": s2.base_url, "model": "b",
             "offline": True}]}
        store = ArenaStore(Database(tmp_path / "arena.sqlite3"))
        for i in range(4):  # a few earlier votes with hostile prompts, so the tables have rows
            t = store.create_battle(f"{HOSTILE} {i}", "a", "b", room="demo")
            store.complete_battle(t, HOSTILE, LONG)
            store.record_vote(t, "model_a" if i % 2 else "model_b")
        demo_room(store)  # "demo" as an instructor's room: the page opens it by link (?room=…&key=…)
        arena = Arena(parse_config(cfg, offline=True), store=store, max_new_tokens=64, seed=5)
        _, url = launch(standalone(lambda: build(arena), "arena", CSS), CSS)
        w = watch(page)
        page.goto(url + "?room=demo&key=" + DEMO_KEY)
        page.locator("#arena-banner").get_by_text("instructor view").wait_for(timeout=30_000)
        _textbox(page, "arena-prompt").fill(f"{HOSTILE} {LONG}")
        page.locator("#arena-go").click()
        page.wait_for_function("() => !document.querySelector('#arena-vote-0').disabled", timeout=60_000)
        for side in ("#arena-left", "#arena-right"):
            assert_inert(page, side, w, expect=["You asked:", *PAYLOADS], long_text=True)
        assert_inert(page, ".gradio-container", w)  # the contestant pool line (Markdown) and everything else
        screenshot(page, "hostile-arena-battle")
        page.locator("#arena-vote-0").click()
        page.get_by_text("Vote recorded").wait_for(timeout=30_000)
        assert_inert(page, "#arena-reveal", w, expect=[IMG, MD_IMG, SVG, SCRIPT])

        page.get_by_role("tab", name="🏆 Leaderboard").click()
        page.locator("#arena-refresh").click()
        page.get_by_text("5 votes counted").wait_for(timeout=60_000)
        _wait_text(page, "#arena-board-table", "onerror")
        page.wait_for_timeout(1000)  # let plotly draw
        assert_inert(page, "#arena-board-table", w, expect=[hostile_label, f"{SVG} {SCRIPT}"])
        assert_inert(page, ".gradio-container", w)  # the rating plots label their bars with the same names
        screenshot(page, "hostile-arena-leaderboard")

        page.get_by_role("tab", name="🧑‍🏫 Instructor").click()
        page.get_by_label("Live updates (every 3 s)").check()
        page.locator(".arena-kpi").first.wait_for(timeout=30_000)
        page.wait_for_function(  # the live table lists the contestants by their (hostile) labels
            "t => [...document.querySelectorAll('table')].some(e => e.innerText.includes('Elo (K=4)')"
            " && e.innerText.includes(t))", arg=hostile_label, timeout=30_000)
        assert_inert(page, ".gradio-container", w)
        screenshot(page, "hostile-arena-live", full_page=False)


# --------------------------------------------------------------------------------------------
# Classifier Zoo: hostile label names and CSV cells → class counts, result cards, tables, plot
# --------------------------------------------------------------------------------------------

def _hostile_csv(path: Path) -> Path:
    import csv

    labels = [IMG, f"{SVG} {SCRIPT}", LONG]  # the 3,000-character word is a class name too
    words = ["apples pears plums", "rivers lakes seas", "trains buses trams"]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", "label"])
        for i in range(30):
            k = i % 3
            extra = {0: MD_LINK, 1: MD_IMG, 2: LONG}[i % 3] if i < 6 else ""
            out.writerow([f"{words[k]} {HOSTILE if i % 2 else ''} {extra} number {i}", labels[k]])
    return path


def test_classifier_zoo_labels_cells_and_tables(launch: Any, page: Any, tmp_path: Path) -> None:
    from apps.classifiers.app import CSS, build
    from apps.launch import standalone

    csv_path = _hostile_csv(tmp_path / "hostile.csv")
    with FakeOpenAI(reply=IMG) as server:  # the API model always answers the <img …> class
        _, url = launch(standalone(build, "classifiers", CSS), CSS)
        w = watch(page)
        page.goto(url)
        page.locator("#classifiers-counts").get_by_text("rotten").first.wait_for(timeout=60_000)
        page.get_by_text("Upload a CSV").click()
        page.locator("#classifiers-upload input[type=file]").set_input_files(str(csv_path))
        page.locator("#classifiers-counts").get_by_text("onerror").first.wait_for(timeout=60_000)
        assert_inert(page, "#classifiers-counts", w, expect=[IMG, f"{SVG} {SCRIPT}"], long_text=True)

        methods = page.locator("#classifiers-methods")
        for title in ("Task-specific model", "Embeddings + logistic regression",
                      "Zero-shot: similarity to label descriptions", "Generative prompt", "SetFit few-shot"):
            methods.get_by_label(title).uncheck()
        methods.get_by_label("OpenAI-compatible chat model").check()
        page.get_by_text("OpenAI-compatible endpoint").click()
        page.get_by_label("Base URL").fill(server.base_url)
        page.get_by_label("Server model").fill("fake-model")
        _textbox(page, "classifiers-text").fill(f"{HOSTILE} {LONG}")
        page.get_by_role("button", name="Classify with every method").click()
        page.locator("#classifiers-cards .classifiers-card").nth(1).wait_for(timeout=60_000)
        assert_inert(page, "#classifiers-cards", w, expect=[IMG, "TF-IDF"], long_text=True)
        screenshot(page, "hostile-classifiers-cards")

        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#classifiers-evaluate").click()
        page.locator("#classifiers-summary").get_by_text("methods ran").wait_for(timeout=120_000)
        assert "2/2 methods ran" in page.locator("#classifiers-summary").inner_text()
        _wait_text(page, ".gradio-container", "✗ <img src=x")  # the disagreement browser
        page.wait_for_timeout(1000)  # let plotly draw the confusion matrix
        assert_inert(page, "#classifiers-summary", w, expect=["hostile.csv"])
        # the disagreement table shows the first 140 characters of a text: the Markdown payloads come after
        # the HTML ones and are cut there, so only the HTML ones must show literally (all must stay inert)
        assert_inert(page, ".gradio-container", w, expect=[IMG, "✗ " + IMG], long_text=True)
        screenshot(page, "hostile-classifiers-evaluate")


# --------------------------------------------------------------------------------------------
# Multimodal Captioner: typed labels, templates, captions and a question → info HTML, tables, plots
# --------------------------------------------------------------------------------------------

def test_captioner_labels_templates_captions_question(launch: Any, page: Any) -> None:
    from apps.vision.app import CSS, SLUG, build
    from apps.launch import standalone

    long_label = LONG[:200]  # labels are cut at 200 characters: still one very long word
    _, url = launch(standalone(build, SLUG, CSS), CSS)
    w = watch(page)
    page.goto(url)
    page.get_by_text("labelled stand-ins run here, not CLIP or BLIP").wait_for(timeout=30_000)
    page.locator("#vision-builtins").get_by_label("Coffee cup").uncheck()
    _textbox(page, "vision-labels").fill("\n".join(["cat", IMG, f"{SVG} {SCRIPT}", MD_LINK, MD_IMG, long_label]))
    # a template without {} is refused with a message that quotes it: error toasts render HTML
    _textbox(page, "vision-template").fill(f"{IMG} {MD_IMG}")
    page.locator("#vision-label-btn").click()
    page.locator("[data-testid=toast-body]").first.wait_for(timeout=60_000)
    assert_inert(page, "[data-testid=toast-body]", w, expect=[f"'{IMG} {MD_IMG}' has no {{}} placeholder"])
    page.locator("[data-testid=toast-body] .toast-close").first.click()
    _textbox(page, "vision-template").fill(f"a photo of a {{}} {IMG} {LONG[:200]}")  # templates: ≤ 300 chars
    _textbox(page, "vision-templates").fill(f"{{}} {SVG}\n{MD_LINK} {{}}")
    page.locator("#vision-label-btn").click()
    page.locator("#vision-label-plot .js-plotly-plot").wait_for(timeout=120_000)
    page.locator("#vision-label-info").get_by_text("offline proxy — not CLIP").wait_for(timeout=30_000)
    _wait_text(page, ".gradio-container", "a photo of a cat <img")  # the scores table
    page.wait_for_timeout(1000)  # let plotly draw
    assert_inert(page, "#vision-label-plot", w, expect=["src=x onerror"])
    assert_inert(page, ".gradio-container", w, expect=[IMG, f"{SVG} {SCRIPT}", MD_LINK, MD_IMG])
    screenshot(page, "hostile-vision-labels")

    page.get_by_role("tab", name="Similarity matrix").click()
    _textbox(page, "vision-captions").fill("\n".join([f"a cat {IMG}", f"a cup {MD_IMG}", LONG[:300]]))
    page.locator("#vision-sim-btn").click()
    page.locator("#vision-sim-plot .js-plotly-plot").wait_for(timeout=60_000)
    page.get_by_text("Best caption per image").wait_for(timeout=30_000)
    assert_inert(page, ".gradio-container", w, expect=["cat → “"])

    # offline, questions need BLIP-2, which no package ships: the tab says so and takes no input
    # (tests/apps/test_vision.py sends HTML in a question to vision_ask and checks it is escaped)
    page.get_by_role("tab", name="Ask about the image").click()
    page.locator("#vision-ask-off").wait_for(timeout=30_000)
    assert page.locator("#vision-question textarea").first.is_disabled()
    assert page.locator("#vision-ask-btn").is_disabled()
    assert_inert(page, ".gradio-container", w)
    screenshot(page, "hostile-vision-ask", full_page=False)


# --------------------------------------------------------------------------------------------
# Topic Explorer: hostile documents and column name → preview, topic table, map; a hostile topic label
# --------------------------------------------------------------------------------------------

def _hostile_corpus(path: Path) -> Path:
    import csv

    themes = [["apples", "pears", "plums", "orchard", "harvest", "cider"],
              ["rivers", "lakes", "boats", "harbour", "sailing", "tides"],
              ["trains", "buses", "tickets", "stations", "platform", "timetable"]]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", IMG])  # a hostile column name too (dropdowns, preview)
        for i in range(66):
            words = themes[i % 3]
            doc = " ".join(words[(i + j) % 6] for j in range(8)) + f" note {i}"
            if i % 3 == 0:
                doc += " " + HOSTILE
            if i in (1, 2):
                doc += " " + LONG
            out.writerow([doc, f"{SVG} {i % 2}"])
    return path


def test_topic_explorer_documents_tables_and_labels(launch: Any, page: Any, tmp_path: Path) -> None:
    from apps.topics.app import CSS, SLUG, build
    from apps.launch import standalone

    csv_path = _hostile_corpus(tmp_path / "hostile_docs.csv")
    _, url = launch(standalone(build, SLUG, CSS), CSS)
    w = watch(page)
    page.goto(url)
    page.wait_for_selector(".topics-preview", timeout=60_000)
    page.get_by_label("Upload a CSV file").check()
    page.locator("#topics-upload input[type=file]").set_input_files(str(csv_path))
    page.wait_for_selector(".topics-preview:has-text('hostile_docs.csv')", timeout=60_000)
    page.locator(".topics-preview summary").click()  # open "First documents"
    assert_inert(page, ".topics-preview", w, expect=[IMG, SCRIPT], long_text=True)  # samples are cut

    page.locator("#topics-run").click()
    page.wait_for_selector("#topics-summary .topics-kpi", timeout=120_000)
    page.wait_for_selector("#topics-map .js-plotly-plot", timeout=60_000)
    page.get_by_role("tab", name="Topics").click()
    _wait_text(page, "#topics-table", "onerror")
    assert_inert(page, "#topics-table", w, expect=[IMG, SCRIPT])
    assert_inert(page, "#topics-summary", w)

    page.locator("#topics-edit").get_by_text("Edit & label").first.click()  # open the section
    label = f"{IMG} {MD_IMG}"  # topic labels are cut at 80 characters
    page.get_by_label("New label").fill(label)
    page.get_by_role("button", name="Rename").click()
    page.get_by_role("tab", name="Topics").click()
    _wait_text(page, "#topics-table", label)
    assert_inert(page, "#topics-table", w, expect=[label])
    page.get_by_role("tab", name="Map").click()
    page.wait_for_timeout(1000)  # let plotly draw the legend with the new label
    assert_inert(page, "#topics-map", w, expect=["src=x onerror"])
    assert_inert(page, ".gradio-container", w)
    screenshot(page, "hostile-topics-map")
    page.get_by_role("tab", name="Topics").click()
    page.wait_for_timeout(300)
    screenshot(page, "hostile-topics-table")

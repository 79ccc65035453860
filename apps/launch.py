"""Starting apps: the lab's chrome around one app (``python -m apps.<slug>``, a Space) and the
command line shared by every entry point."""
from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import threading
import time
from typing import Any, Callable, Iterator, Sequence

from apps.common import BASE_CSS, THEME, configure_queue, footer, header
from apps.common.jobs import stop_session
from apps.manifest import Manifest

import gradio as gr

log = logging.getLogger(__name__)

#: Gradio keeps every upload in its temp folder; the launched Blocks sweeps files older than a
#: workshop day every hour (``delete_cache=(frequency_s, age_s)``) so a room's uploads cannot fill
#: the disk. Data the apps keep (RAG documents, votes) lives in ``LLM_LAB_DATA``, not there.
UPLOAD_CACHE = (3600, 8 * 3600)


def launch_kwargs(css: str = "") -> dict[str, Any]:
    return {"theme": THEME, "css": BASE_CSS + css, "footer_links": ["api", "gradio", "settings"]}


def parse_args(argv: Sequence[str] | None = None, description: str = "") -> argparse.Namespace:
    from core.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default=settings.server_name)
    parser.add_argument("--port", type=int, default=settings.server_port)
    parser.add_argument("--share", action="store_true", help="create a temporary public gradio.live link")
    parser.add_argument("--openai-base-url", default=None,
                        help="one OpenAI-compatible server for every generating app and the arena")
    parser.add_argument("--openai-model", default=None, help="model on that server (default: its first)")
    return parser.parse_args(argv)


def apply_args(args: argparse.Namespace) -> None:
    """Command-line switches that change settings (they win over the environment)."""
    if getattr(args, "openai_base_url", None) or getattr(args, "openai_model", None):
        from core.settings import set_openai_server

        set_openai_server(args.openai_base_url, args.openai_model)


def place(blocks: gr.Blocks) -> gr.Blocks:
    """Put an app's Blocks into the current layout exactly once.

    A Blocks created inside another's ``with`` is already placed there when its own ``with`` closes;
    calling ``.render()`` on it again would duplicate every component (same ids twice in the page).
    """
    if getattr(blocks, "parent", None) is None:
        blocks.render()
    return blocks


def standalone(build: Callable[[], gr.Blocks], slug: str, css: str = "") -> gr.Blocks:
    """Wrap one app in the lab's chrome so it can run alone (``python -m apps.<name>``, a Space)."""
    from apps import manifest

    app = manifest(slug)
    with gr.Blocks(title=f"{app.title} · LLM Lab", delete_cache=UPLOAD_CACHE) as demo:
        header()
        place(build())
        footer()
        demo.unload(stop_session)
    demo.lab_css = BASE_CSS + css  # type: ignore[attr-defined]
    return demo


def serve(build: Callable[[], tuple[gr.Blocks, str]], apps: Sequence[Manifest] = (),
          argv: Sequence[str] | None = None, description: str = "") -> None:
    """Start from the command line: read ``--host``/``--port``/switches, run the apps' startup
    hooks, then build and launch (so switches and startup work are in place before any page)."""
    args = parse_args(argv, description)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    apply_args(args)
    from core import priority

    priority.starting()  # the startup hooks' warm-ups wait until the server is up
    try:
        run_startup(apps)
        blocks, css = build()
        with one_app_at_the_end():  # queue() would build a FastAPI app that launch() builds again
            configure_queue(blocks)
        blocks.launch(server_name=args.host, server_port=args.port, share=args.share, prevent_thread_lock=True,
                      **launch_kwargs(css))
    finally:
        priority.started()
    blocks.block_thread()


@contextlib.contextmanager
def one_app_at_the_end() -> Iterator[None]:
    """Gradio builds a FastAPI app and a full config at every ``Blocks`` init and exit; the lab nests
    seven app Blocks in eight page contexts, so a plain build makes ~23 apps and ~40 configs only to
    keep the last (about two thirds of the lab's start time), and ``queue()`` makes one more. Inside
    this context those steps are skipped: ``launch()`` builds the one config and app that serve."""
    from gradio import blocks as gr_blocks

    create_app, get_config_file = gr_blocks.App.create_app, gr_blocks.Blocks.get_config_file
    gr_blocks.App.create_app = staticmethod(lambda *a, **k: None)  # type: ignore[method-assign]
    gr_blocks.Blocks.get_config_file = lambda self: {}  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        gr_blocks.App.create_app = create_app  # type: ignore[method-assign]
        gr_blocks.Blocks.get_config_file = get_config_file  # type: ignore[method-assign]


def run_startup(manifests: Sequence[Manifest]) -> None:
    """Each app's startup hook (clean temp folders, load contestants, warm-ups), errors logged; then
    the shared models load in the background (the first page does not wait for them)."""
    from core import heap
    from core.settings import get_settings

    heap.limit_arenas(get_settings().malloc_arenas)  # before the server's worker threads exist
    for app in manifests:
        try:
            app.run_startup()
        except Exception:  # noqa: BLE001 - one app's warm-up must not stop the lab
            log.exception("startup of %s failed", app.slug)
    if manifests:
        warm_models_in_background(manifests)


WARMUP: dict[str, Any] = {"state": "not started"}


def warm_models_in_background(apps: Sequence[Manifest] = (), delay_s: float = 2.0) -> threading.Thread | None:
    """Load the default chat engine and the embedder (those of them the served apps use) in a
    background thread, so the room's first clicks don't each wait for a model load
    (``LLM_LAB_MODELS_WARMUP=0`` turns this off)."""
    from core import catalogue
    from core.settings import get_settings

    if not get_settings().models_warmup:
        WARMUP["state"] = "off"
        return None
    known = {e.name: e.task for e in catalogue.entries()}
    tasks = {known.get(name) for app in apps for name in app.models} if apps else {"chat", "sentence-embedding"}
    steps = [(name, load) for name, load, task in (("chat", _warm_chat, "chat"),
                                                   ("embeddings", _warm_embedder, "sentence-embedding"))
             if task in tasks]

    def run() -> None:
        from core.priority import as_model_work

        as_model_work(after_start=True)
        time.sleep(delay_s)  # let the first page be served first
        WARMUP["state"] = "loading"
        took: dict[str, float] = {}
        for name, load in steps:
            start = time.perf_counter()
            try:
                load()
                took[name] = round(time.perf_counter() - start, 1)
            except Exception:  # noqa: BLE001 - the app loads lazily and says why if it cannot
                log.exception("warm-up of %s failed", name)
        WARMUP.update(state="done", seconds=took)

    thread = threading.Thread(target=run, name="lab-models-warmup", daemon=True)
    thread.start()
    return thread


def _warm_chat() -> None:
    # imported by name: a Space of an app that does not generate does not bundle the engines
    generation = importlib.import_module("core.generation")
    if generation.engine_name() == "llama.cpp":
        importlib.import_module("core.generation.llamacpp_engine").warm()
    else:
        from core.loader import load

        load("chat-smollm2-135m")


def _warm_embedder() -> None:
    from core.loader import load

    load("embed-minilm")


def serve_app(slug: str, argv: Sequence[str] | None = None) -> None:
    """``python -m apps.<slug>``: one app alone at ``/``."""
    from apps import manifest

    app = manifest(slug)
    serve(lambda: (standalone(app.build_fn(), slug, app.css), app.css), [app], argv, description=app.title)


"""Shared fixtures: offline settings, a launched app with a gradio_client, a headless chromium.

Tests never reach beyond loopback: the Hub is disabled (HF_HUB_OFFLINE=1), gradio analytics are off,
and apps are served on 127.0.0.1 on a free port.
"""
from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable, Generator, Iterator

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["LLM_LAB_MODE"] = "offline"
os.environ.setdefault("LLM_LAB_DATA", tempfile.mkdtemp(prefix="llm-lab-test-data-"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("LLM_LAB_MODELS_WARMUP", "0")
os.environ.setdefault("LLM_LAB_TOPICS_WARMUP", "0")  # the numba warm-up thread would compete with the tests  # tests that want the start-up warm-up turn it on
os.environ.pop("OPENAI_API_KEY", None)
os.environ.pop("OPENAI_BASE_URL", None)

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("LLM_LAB_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_blocks(blocks: Any, css: str = "") -> Generator[Any, None, None]:
    """Serve Blocks on loopback and yield a gradio_client Client; closes the server afterwards.
    ``yield from serve_blocks(build(), CSS)`` in a module-scoped fixture shares one app per module."""
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs

    configure_queue(blocks)
    for attempt in range(3):
        try:
            blocks.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                          **launch_kwargs(css))
            break
        except ValueError as exc:  # Gradio's 3 s check of its own page timed out on a busy machine
            if "localhost is not accessible" not in str(exc) or attempt == 2:
                raise
            blocks.close()
    try:
        yield Client(blocks.local_url, verbose=False, download_files=False)
    finally:
        blocks.close()


def dropdown_props(client: Any, label: str) -> dict[str, Any]:
    """The props (choices, value, info, allow_custom_value) of the served dropdown labelled ``label``."""
    found = [c["props"] for c in client.config["components"]
             if c.get("type") == "dropdown" and c.get("props", {}).get("label") == label]
    assert len(found) == 1, f"{len(found)} dropdowns labelled {label!r}"
    return found[0]


@pytest.fixture
def launch() -> Iterator[Callable[..., tuple[Any, str]]]:
    """``client, url = launch(blocks, css="")``: serve Blocks on loopback; closed after the test."""
    servers: list[Generator[Any, None, None]] = []

    def _launch(blocks: Any, css: str = "") -> tuple[Any, str]:
        server = serve_blocks(blocks, css)
        client = next(server)
        servers.append(server)
        return client, blocks.local_url

    yield _launch
    for server in servers:
        server.close()  # runs serve_blocks' finally: blocks.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright (skipped only if chromium is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a screenshot under test-artifacts/screenshots/ (look at them!)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path

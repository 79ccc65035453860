"""Bytes a browser downloads to open the lab's home page and one app page, against the whole-lab
page of an earlier one-page (tabs) layout, measured in the same run.

    python -m bench.bench_pages [--baseline-tree DIR]

``--baseline-tree`` is a checkout of the commit to compare with (e.g. ``git worktree add
/tmp/oldtree b5cd82b``); without it only the current lab is measured (ratios against its home page).
Bytes are counted by Debian's chromium (Playwright) over every response of the page load (HTML,
JavaScript, CSS, the page config and the API description), decoded sizes.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import header, row

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tree: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "LLM_LAB_TOPICS_WARMUP": "0",
           "PYTHONPATH": str(tree)}
    proc = subprocess.Popen([sys.executable, "-m", "apps", "--port", str(port)], cwd=tree, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"lab in {tree} did not start")


def page_bytes(browser: object, url: str) -> tuple[int, int]:
    """(total bytes, bytes of config + API description) downloaded to open ``url``."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    sizes: dict[str, int] = {}

    def on_response(response: object) -> None:
        try:
            sizes[response.url] = len(response.body())  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - streaming responses (SSE) have no body to count
            pass

    page.on("response", on_response)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(3000)  # config and API info load after the HTML
    context.close()
    meta = sum(n for u, n in sizes.items() if "/config" in u or "/info" in u)
    html = sum(n for u, n in sizes.items() if u.rstrip("/") == url.rstrip("/").split("?")[0])
    return sum(sizes.values()), meta + html


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-tree", type=Path, default=None)
    parser.add_argument("--app", default="tokenizers")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        results: dict[str, tuple[int, int]] = {}
        procs = []
        try:
            if args.baseline_tree:
                port = _port()
                procs.append(start(args.baseline_tree, port))
                results["baseline: whole lab on one page (tabs)"] = page_bytes(browser, f"http://127.0.0.1:{port}/")
            port = _port()
            procs.append(start(ROOT, port))
            results["home page /"] = page_bytes(browser, f"http://127.0.0.1:{port}/")
            results[f"one app page /{args.app}"] = page_bytes(browser, f"http://127.0.0.1:{port}/{args.app}")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        browser.close()
    base_label = next(iter(results))
    base_total, base_meta = results[base_label]
    header("Bytes downloaded to open a page (all responses)", base_label)
    for label, (total, _) in results.items():
        print(row(label, total / 1024, base_total / 1024, "KB"))
    header("of which the page's HTML, config and API description", base_label)
    for label, (_, meta) in results.items():
        print(row(label, meta / 1024, base_meta / 1024, "KB"))


if __name__ == "__main__":
    main()

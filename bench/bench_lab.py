"""Lab cold start, app import times and peak memory with every offline model loaded.

    python -m bench.bench_lab

Baselines (same run): a bare one-button Gradio app's cold start; ``import gradio``; the RSS of a
Python process that has imported gradio and torch but loaded no model.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

from bench.common import header, row

BARE_APP = ("import os; os.environ['GRADIO_ANALYTICS_ENABLED']='False'; import gradio as gr, sys\n"
            "with gr.Blocks() as d: gr.Button('hi')\n"
            "d.launch(server_name='127.0.0.1', server_port=int(sys.argv[1]))")

LOAD_ALL = """
import json, os, resource, sys, time
os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
from apps.lab import build_lab
build_lab()                      # imports every app (and their catalogue registrations)
from core import catalogue, loader
from core.settings import get_settings
loaded, failed = [], []
for entry in catalogue.entries():
    if entry.available_in(get_settings().mode):
        try:
            loader.load(entry.name); loaded.append(entry.name)
        except Exception as exc:
            failed.append(f"{entry.name}: {exc}")
try:  # the lab's generation engine: every llama.cpp instance of the default chat model, as the lab warms them
    from core.generation import llamacpp_engine
    if llamacpp_engine.version():
        llamacpp_engine.warm(); loaded.append("llama.cpp engine instances")
except Exception as exc:
    failed.append(f"llama.cpp engine: {exc}")
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "entries": loaded, "copies": len(loader.cache().loaded()), "failed": failed}))
"""

BASE_RSS = """
import json, os, resource
os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
import gradio, torch
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(cmd: list[str], port: int, timeout: float = 180) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"no page after {timeout}s: {cmd}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def import_time(module: str) -> float:
    code = ("import os,time; os.environ['GRADIO_ANALYTICS_ENABLED']='False'; t=time.perf_counter(); "
            f"import {module}; print(time.perf_counter()-t)")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split()[-1])


def main() -> None:
    from apps import manifests

    port = _port()
    bare = min(cold_start([sys.executable, "-c", BARE_APP, str(port)], port) for _ in range(2))
    lab = min(cold_start([sys.executable, "-m", "apps", "--port", str(port)], port) for _ in range(2))
    header("Cold start: command → first page served", "a bare one-button Gradio app")
    print(row("bare Gradio app", bare, bare))
    print(row("python -m apps (whole lab)", lab, bare))

    base_import = min(import_time("gradio") for _ in range(2))
    header("Import time of each app module (fresh process)", "import gradio")
    print(row("import gradio", base_import, base_import))
    for app in manifests():
        module = f"apps.{app.slug}.app"
        print(row(module, min(import_time(module) for _ in range(2)), base_import))

    base = json.loads(subprocess.run([sys.executable, "-c", BASE_RSS], capture_output=True, text=True,
                                     check=True).stdout)
    full = json.loads(subprocess.run([sys.executable, "-c", LOAD_ALL], capture_output=True, text=True,
                                     check=True).stdout.splitlines()[-1])
    header("Peak memory (max RSS)", "a process with gradio and torch imported, no model")
    print(row("gradio + torch, no model", base["rss_mb"], base["rss_mb"], "MB"))
    print(row(f"lab + all {len(full['entries'])} offline catalogue entries", full["rss_mb"], base["rss_mb"], "MB"))
    print(f"  {len(full['entries'])} catalogue entries served by {full['copies']} loaded model copies")
    for failure in full["failed"]:
        print("  could not load:", failure)


if __name__ == "__main__":
    main()

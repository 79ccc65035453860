"""The lab shell served on loopback and called with gradio_client."""
import subprocess
import sys
import time
import urllib.request

from apps import APPS, available_apps
from apps.lab import build_lab
from apps.launch import UPLOAD_CACHE
from tests.conftest import free_port


def test_lab_serves_every_present_app(launch):
    lab, css = build_lab()
    client, url = launch(lab, css)
    info = client.predict(api_name="/lab_info")
    assert info["mode"] == "offline"
    assert [a["slug"] for a in info["apps"]] == [a.slug for a, _ in available_apps()]
    html = urllib.request.urlopen(url, timeout=30).read().decode()
    assert "LLM Lab" in html
    # a room's uploads are swept from Gradio's temp folder (hourly, files older than a workshop day)
    assert lab.delete_cache == UPLOAD_CACHE and UPLOAD_CACHE[1] >= 4 * 3600


def test_api_names_are_prefixed_by_app():
    """Names clash when apps render together, so every public endpoint carries its app's slug."""
    lab, _ = build_lab()
    slugs = tuple(a.slug for a in APPS) + ("lab",)
    for dep in lab.config["dependencies"]:
        name = dep.get("api_name")
        if name and dep.get("api_visibility", "public") != "private":
            assert name.startswith(tuple(f"{s}_" for s in slugs)), name


def test_python_m_apps_starts_on_the_requested_port():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "apps", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        else:
            raise AssertionError("the lab did not serve its home page within 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

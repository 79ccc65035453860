"""The lab shell served on loopback: each app at its own path, pages ship only their components."""
import json
import re
import subprocess
import sys
import time
import urllib.request

from apps import SLUGS, manifests
from apps.lab import build_lab
from apps.launch import UPLOAD_CACHE
from tests.conftest import free_port


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as r:
        assert r.status == 200, url
        return r.read().decode()


def test_lab_serves_home_and_every_app_at_its_own_path(launch):
    lab, css = build_lab()
    client, url = launch(lab, css)
    info = client.predict(api_name="/lab_info")
    assert info["mode"] == "offline"
    assert [a["slug"] for a in info["apps"]] == list(SLUGS)
    assert [a["path"] for a in info["apps"]] == [f"/{s}" for s in SLUGS]
    assert "LLM Lab" in _get(url)
    home = _get(f"{url}config?page=")  # the page's HTML is in its config
    for app in manifests():  # home cards are links to the app pages
        assert f'href=\\"{app.slug}\\"' in home or f'href="{app.slug}"' in home, app.slug
        assert _get(f"{url}{app.slug}")
    # a room's uploads are swept from Gradio's temp folder (hourly, files older than a workshop day)
    assert lab.delete_cache == UPLOAD_CACHE and UPLOAD_CACHE[1] >= 4 * 3600


def test_a_routed_page_ships_only_its_own_components(launch):
    lab, css = build_lab()
    _, url = launch(lab, css)
    whole = json.loads(_get(f"{url}config"))
    sizes = {}
    for slug in SLUGS:
        page = json.loads(_get(f"{url}config?page={slug}"))
        ids = {c["id"] for c in page["components"]}
        own = set(whole["page"][slug]["components"])
        assert ids - own <= {c["id"] for c in whole["components"] if c.get("type") in ("blocks", "navbar")}, slug
        for other in set(SLUGS) - {slug}:  # nothing of another app's page
            assert not ids & (set(whole["page"][other]["components"]) - own), (slug, other)
        sizes[slug] = len(json.dumps(page))
    assert max(sizes.values()) < 0.6 * len(json.dumps(whole)), sizes


def test_api_names_are_prefixed_by_app():
    """Every public endpoint carries its app's slug, so the API is the same standalone and in the lab."""
    lab, _ = build_lab()
    slugs = tuple(SLUGS) + ("lab",)
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
                html = _get(f"http://127.0.0.1:{port}/arena")
                assert re.search(r"Pairwise Eval Arena", html)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        else:
            raise AssertionError("the lab did not serve /arena within 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

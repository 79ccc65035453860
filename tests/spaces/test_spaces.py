"""Every present app builds into a self-contained ZeroGPU Space folder that starts and answers.

For each app present in the tree (collected from the registry when pytest starts, so apps that land
later are picked up): build its Space into a temp dir, start ``python app.py`` there in a clean
environment (the repository NOT on sys.path, ``HF_HUB_OFFLINE=1``, offline mode, a free loopback
port), call a cheap API endpoint with gradio_client and check the answer; check the README front
matter parses as YAML with the keys Spaces need; check ``spaces/deploy.py --dry-run`` lists exactly the
built files without touching the network. The Space processes also run with
``LLM_LAB_GPU_PICKLE_CHECK=1``, so a GPU function whose arguments could not cross ZeroGPU's process
boundary fails here rather than on the Space.
"""
from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from apps import SLUGS
from tests.spaces.tools import load_tool

space_build = load_tool("build")
space_deploy = load_tool("deploy")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_APP = Path(__file__).with_name("sample_app.py")
START_TIMEOUT_S = 150
SUPPORTED_TORCH = {"2.8.0", "2.9.1", "2.10.0", "2.11.0"}
COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
REQUIRED_KEYS = {"title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "python_version",
                 "app_file", "short_description", "license"}


PRESENT = list(SLUGS)


# --------------------------------------------------------------------------------------------
# one cheap call per app: api_name, keyword arguments, check(result). Calls go through submit()
# (streaming endpoints need it). An app not listed, or whose endpoint was renamed, still gets the
# page, /gradio_api/info, the health endpoint and (CPU-only apps) the GPU panel checked.
# --------------------------------------------------------------------------------------------

def _text(result: Any) -> str:
    return str(result)


def _check_tokenizers(result: Any) -> None:
    assert "gpt2" in _text(result) and "Hello" in _text(result), _text(result)[:500]


def _check_topics(result: Any) -> None:
    assert "text" in _text(result), _text(result)[:500]  # the sample CSV's text column is offered


def _check_prompts(result: Any) -> None:
    raw = result[1]  # "Output (raw text)": SmolLM2 greedy, through the GPU function's pickle check
    assert isinstance(raw, str) and raw.strip(), result


def _check_rag(result: Any) -> None:
    assert "chunk" in _text(result).lower(), _text(result)[:500]


def _check_nonempty(result: Any) -> None:
    assert result is not None and _text(result).strip(), result


APP_CALLS: dict[str, tuple[str, dict[str, Any], Callable[[Any], None]]] = {
    "tokenizers": ("tokenizers_compare", {"text": "Hello world", "selected": ["gpt2", "bert-base-uncased"], "extra": ""},
                   _check_tokenizers),
    "classifiers": ("classifiers_source", {"source": "Rotten Tomatoes snippets (built-in)", "test_size": 50,
                                           "train_size": 100}, _check_nonempty),
    "topics": ("topics_load", {"source": "sample", "file": None}, _check_topics),
    "prompts": ("prompts_generate", {"prompt": "Say hi.", "max_new_tokens": 6, "greedy": True, "seed": 0},
                _check_prompts),
    "rag": ("rag_load_builtin", {"strategy": "paragraph", "size": 2, "overlap": 0}, _check_rag),
    "vision": ("vision_view", {"builtins": ["cat"], "files": None, "webcam": None}, _check_nonempty),
    "arena": ("arena_leaderboard", {"room": ""}, _check_nonempty),
}


# --------------------------------------------------------------------------------------------
# fixtures: build every present app once, start all Space processes at once
# --------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env(port: int, data_dir: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LLM_LAB_CACHE")
           if key in os.environ}
    env.update({
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "LLM_LAB_MODE": "offline", "LLM_LAB_DATA": str(data_dir), "LLM_LAB_GPU_PICKLE_CHECK": "1",
        "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
        "PYTHONDONTWRITEBYTECODE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1",
    })
    return env


@dataclass
class Space:
    slug: str
    folder: Path
    files: list[str]
    plan: Any
    url: str = ""
    process: subprocess.Popen | None = None
    log: Path | None = None
    error: str = ""

    def wait(self) -> str:
        """The Space's URL once it answers (fails the test with its log if it never does)."""
        if self.error:
            pytest.fail(f"{self.slug}: {self.error}")
        if self.process is None:
            pytest.fail(f"{self.slug} Space was not started")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.slug} Space exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/gradio_api/info", timeout=5) as response:
                    if response.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"{self.slug} Space did not answer within {START_TIMEOUT_S}s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log and self.log.exists() else ""


def _start(space: Space, workdir: Path) -> None:
    port = _free_port()
    data_dir = workdir / f"data-{space.slug}"
    data_dir.mkdir(exist_ok=True)
    space.log = workdir / f"{space.slug}.log"
    space.url = f"http://127.0.0.1:{port}"
    space.process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=space.folder, env=_clean_env(port, data_dir),
        stdout=space.log.open("w"), stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def spaces_built(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Space]:
    """Every present app built (in this process); the Spaces the selected tests serve are started
    all at once, in subprocesses."""
    workdir = tmp_path_factory.mktemp("spaces")
    to_serve = {item.callspec.params.get("slug") for item in request.session.items
                if item.originalname == "test_space_starts_alone_and_answers" and hasattr(item, "callspec")}
    built: dict[str, Space] = {}
    for slug in PRESENT:
        folder = workdir / slug
        try:
            plan, files = space_build.build_space(slug, folder)
        except Exception as exc:  # noqa: BLE001 - reported by this app's tests only
            built[slug] = Space(slug, folder, [], None, error=f"build failed: {type(exc).__name__}: {exc}")
            continue
        built[slug] = Space(slug, folder, files, plan)
    for space in built.values():
        if not space.error and space.slug in to_serve:
            _start(space, workdir)
    yield built
    for space in built.values():
        if space.process is not None and space.process.poll() is None:
            space.process.terminate()
    for space in built.values():
        if space.process is not None:
            try:
                space.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                space.process.kill()


def _space(spaces_built: dict[str, Space], slug: str) -> Space:
    space = spaces_built[slug]
    if space.error:
        pytest.fail(f"{slug}: {space.error}")
    return space


def _front_matter(readme: str) -> dict[str, Any]:
    assert readme.startswith("---\n"), "README.md must start with YAML front matter"
    block = readme.split("---\n", 2)[1]
    return yaml.safe_load(block)


# --------------------------------------------------------------------------------------------
# per app
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", PRESENT)
def test_space_folder_is_self_contained(spaces_built: dict[str, Space], slug: str) -> None:
    space = _space(spaces_built, slug)
    files = set(space.files)
    assert {"app.py", "README.md", "requirements.txt", "apps/__init__.py", "apps/manifest.py",
            "apps/common/__init__.py", "apps/launch.py", f"apps/{slug}/__init__.py", f"apps/{slug}/app.py"} <= files
    assert not any(f.startswith(("spaces/", "tests/", "bench/", "docs/")) for f in files), files
    other_apps = {f for f in files if f.startswith("apps/") and f.split("/")[1] in set(SLUGS) - {slug}}
    assert not other_apps, f"other apps bundled: {other_apps}"
    for rel in files:  # every bundled module comes from the repo unchanged and parses on Python 3.10
        if rel.endswith(".py") and rel != "app.py" and (ROOT / rel).exists():
            assert (space.folder / rel).read_bytes() == (ROOT / rel).read_bytes()
            ast.parse((space.folder / rel).read_text(encoding="utf-8"), feature_version=(3, 10))
    app_py = (space.folder / "app.py").read_text(encoding="utf-8")
    imports = [node for node in ast.parse(app_py).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    first = next(n for n in imports if not (isinstance(n, ast.Import) and n.names[0].name == "os"))
    assert isinstance(first, ast.Import) and first.names[0].name == "spaces", "app.py must import spaces first"
    assert "demo.launch(**launch_kwargs(CSS))" in app_py and "configure_queue(" in app_py
    requirements = [r.strip() for r in (space.folder / "requirements.txt").read_text().splitlines()
                    if r.strip() and not r.startswith("#")]
    names = {r.split("==")[0].split("<")[0].split("[")[0].lower() for r in requirements}
    assert not names & {"gradio", "spaces", "gradio-client"}, requirements
    for req in requirements:
        if req.split("==")[0] == "torch":
            assert req == "torch" or req.split("==")[1] in SUPPORTED_TORCH, req
    assert space.plan.gpu_functions, "ZeroGPU refuses a Space without a @spaces.GPU function"


@pytest.mark.parametrize("slug", PRESENT)
def test_front_matter_parses_with_required_keys(spaces_built: dict[str, Space], slug: str) -> None:
    space = _space(spaces_built, slug)
    meta = _front_matter((space.folder / "README.md").read_text(encoding="utf-8"))
    assert REQUIRED_KEYS <= meta.keys(), REQUIRED_KEYS - meta.keys()
    assert meta["sdk"] == "gradio" and str(meta["sdk_version"]) == space_build.SDK_VERSION
    assert str(meta["python_version"]) in {"3.10", "3.12"} and meta["app_file"] == "app.py"
    assert 0 < len(meta["short_description"]) <= 60
    assert len(meta["title"]) <= 100 and meta["colorFrom"] in COLORS and meta["colorTo"] in COLORS
    from core import catalogue

    hub_ids = {e.hub_id for e in catalogue.entries() if e.hub_id}
    models = meta.get("models", [])
    assert all(m in hub_ids for m in models), models
    assert models == space.plan.hub_models
    # "Sign in with Hugging Face": each signed-in participant gets their own ZeroGPU quota
    assert meta.get("hf_oauth") is True
    assert "gr.LoginButton(" in (space.folder / "app.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("slug", PRESENT)
def test_deploy_dry_run_lists_exactly_the_built_files(spaces_built: dict[str, Space], slug: str,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    space = _space(spaces_built, slug)

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("--dry-run tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    capsys.readouterr()
    assert space_deploy.main([slug, "--repo-id", "lab-test/space", "--dry-run"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == space.files


@pytest.mark.parametrize("slug", PRESENT)
def test_space_starts_alone_and_answers(spaces_built: dict[str, Space], slug: str) -> None:
    from gradio_client import Client

    space = _space(spaces_built, slug)
    url = space.wait()
    with urllib.request.urlopen(url + "/", timeout=30) as response:
        page = response.read().decode("utf-8", errors="replace")
    assert response.status == 200 and "<html" in page.lower()
    client = Client(url, verbose=False, download_files=False)
    info = client.predict(api_name=f"/{slug}_space_info")
    assert info["app"] == slug and info["mode"] == "offline" and info["zero_gpu"] is False
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert any(name.startswith(f"/{slug}_") and name != f"/{slug}_space_info" for name in endpoints), \
        f"{slug} exposes no /{slug}_* endpoint: {sorted(endpoints)}"
    if space.plan.gpu_extra:
        rows = client.predict("The bank raised interest rates, so we sat on the river bank.",
                              api_name=f"/{slug}_space_gpu_embeddings")["data"]
        tokens = [row[1] for row in rows]
        assert tokens.count("bank") == 2 and all(-1.0 <= row[2] <= 1.0 for row in rows), rows
    call = APP_CALLS.get(slug)
    if call is not None and f"/{call[0]}" in endpoints:
        api_name, kwargs, check = call
        check(client.submit(**kwargs, api_name=f"/{api_name}").result(timeout=180))


# --------------------------------------------------------------------------------------------
# the builder itself, on a stand-in app (runs even before any app has landed)
# --------------------------------------------------------------------------------------------

def test_builder_on_a_stand_in_cpu_only_app(tmp_path: Path) -> None:
    """A scratch copy of the foundation plus a CPU-only stand-in app: the Space gets the GPU panel."""
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    shutil.copytree(ROOT / "core", repo / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "spaces", repo / "spaces", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("__init__.py", "manifest.py", "launch.py"):
        shutil.copy2(ROOT / "apps" / name, repo / "apps" / name)
    shutil.copytree(ROOT / "apps" / "common", repo / "apps" / "common", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "requirements.txt", repo / "requirements.txt")
    (repo / "apps" / "tokenizers").mkdir()
    (repo / "apps" / "tokenizers" / "__init__.py").write_text(
        "from apps.manifest import Chapter, Manifest\n"
        "MANIFEST = Manifest(slug='tokenizers', title='Sample', emoji='🔤', tagline='A sample app.',\n"
        "                    chapters=(Chapter(2, 'Tokens and Embeddings'),), models=('embed-minilm',),\n"
        "                    assets=('minilm',))\n")
    shutil.copy2(SAMPLE_APP, repo / "apps" / "tokenizers" / "app.py")
    out = tmp_path / "space"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "spaces/build.py", "tokenizers", "--out", str(out)], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    files = space_build.space_files(out)
    assert "space_gpu.py" in files and "apps/tokenizers/app.py" in files
    assert not any(f.startswith(("spaces/", "core/vision", "core/rag", "core/topics")) for f in files), files
    app_py = (out / "app.py").read_text()
    assert "import space_gpu" in app_py and "space_gpu.panel(SLUG)" in app_py
    meta = _front_matter((out / "README.md").read_text())
    assert meta["models"] == ["sentence-transformers/all-MiniLM-L6-v2"]
    requirements = (out / "requirements.txt").read_text().split()
    assert "torch" in requirements and any(r.startswith("sentence-transformers==") for r in requirements)
    # building again over a built Space is fine; over a folder that is not a Space is refused
    space_build._safe_out(out)
    assert not out.exists()
    with pytest.raises(space_build.BuildError, match="refusing to overwrite"):
        space_build._safe_out(repo / "core")
    assert (repo / "core" / "gpu.py").exists()


def test_scan_finds_gpu_functions_and_imports(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "import numpy as np\nfrom core.gpu import gpu_task\nfrom core import catalogue\n"
        "@gpu_task(duration=5)\ndef heavy(x):\n    import torch\n    return x\n"
        "def pick():\n    from sklearn.linear_model import LogisticRegression\n"
        "    return catalogue.entries('chat'), catalogue.get('embed-minilm')\n"
        "catalogue.register(catalogue.ModelEntry('mine', 't', 'l', 'org/mine', 'main', None, 1, 'MIT', 2))\n")
    scan = space_build.scan_module("core.fake", source)
    assert scan.gpu_functions == {"heavy"}
    assert {"numpy", "torch", "sklearn"} <= scan.third_party
    assert {"core", "core.gpu", "core.catalogue"} <= scan.local
    reqs = space_build.requirements_for({"numpy", "torch", "sklearn", "gradio", "os", "PIL"})
    assert "torch" in reqs and any(r.startswith("scikit-learn") for r in reqs)
    assert any(r.startswith("pillow") for r in reqs) and not any(r.startswith("gradio") for r in reqs)


def test_zero_gpu_errors_reach_visitors_as_a_friendly_message() -> None:
    """Every app handler is wrapped in ``user_errors``: ZeroGPU's quota errors become one sentence
    about the shared quota (no 'ZeroGPU worker' jargon); the app's own gr.Errors pass unchanged."""
    import gradio as gr

    from apps.common import user_errors

    @user_errors
    def out_of_quota() -> None:
        raise gr.Error("You have exceeded your free ZeroGPU quota (90s requested vs. 10s left).",
                       title="ZeroGPU quota exceeded")

    @user_errors
    def streaming() -> Any:
        yield "partial"
        raise gr.Error("No GPU was available after 60s", title="ZeroGPU queue timeout")

    with pytest.raises(gr.Error) as caught:
        out_of_quota()
    assert caught.value.title == "GPU unavailable" and "Sign in with Hugging Face" in caught.value.message
    with pytest.raises(gr.Error) as caught:
        list(streaming())
    assert "queue timeout" in caught.value.message
    with pytest.raises(gr.Error, match="plain app error"):
        user_errors(lambda: (_ for _ in ()).throw(gr.Error("plain app error")))()

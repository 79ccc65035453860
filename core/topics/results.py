"""Topic Explorer take-home: the link state (corpus, columns and every pipeline knob; an uploaded CSV
travels in a stored link), the corpus and config it describes, and the results download (a zip
of the topic table and the document→topic CSV, each under provenance lines, plus provenance.json)."""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Mapping

from core.errors import LabError
from core.links import param_float
from core.topics.config import TopicConfig
from core.tempfiles import download_dir

NONE = "(none)"
MAX_LINK_CSV_BYTES = 1_500_000
#: link key → TopicConfig field (short names keep query-string links short)
KNOBS = {"embed": "embedding_model", "nn": "n_neighbors", "nc": "n_components", "md": "min_dist",
         "metric": "umap_metric", "seed": "seed", "mcs": "min_cluster_size", "ms": "min_samples",
         "sel": "cluster_selection", "stop": "stop_words", "ngram": "ngram_max", "mindf": "min_df",
         "rep": "representation", "div": "diversity"}


def _col(value: Any) -> str:
    return "" if value in (None, "", NONE) else str(value)


def link_state(source: str, file: Any, text_col: str, time_col: str, class_col: str,
               config: TopicConfig) -> dict[str, Any]:
    """What a link to this Topic Explorer state holds."""
    state: dict[str, Any] = {"corpus": source or "sample", "text": _col(text_col), "time": _col(time_col),
                             "cls": _col(class_col)}
    defaults = TopicConfig()
    for key, name in KNOBS.items():
        value = getattr(config, name)
        if value != getattr(defaults, name) or key in ("embed", "seed"):
            state[key] = value
    if source == "upload":
        path = file.get("path") if isinstance(file, dict) else getattr(file, "path", None) or file
        if not path or not Path(str(path)).is_file():
            raise LabError("Upload a CSV first: a link to an uploaded corpus carries the file.")
        path = Path(str(path))
        if path.stat().st_size > MAX_LINK_CSV_BYTES:
            raise LabError(f"The CSV is {path.stat().st_size / 1e6:.1f} MB; links carry files up to "
                           f"{MAX_LINK_CSV_BYTES / 1e6:.1f} MB. Download the results or the notebook instead.")
        state.update(csv_name=path.name, csv=path.read_bytes().decode("utf-8", "replace"))
    return state


def config_of(state: Mapping[str, Any]) -> TopicConfig:
    """The pipeline settings a link holds (defaults for what it leaves out), validated."""
    defaults = TopicConfig()
    types = {f.name: type(getattr(defaults, f.name)) for f in fields(TopicConfig)}
    values: dict[str, Any] = {}
    for key, name in KNOBS.items():
        if key in state and state[key] not in (None, ""):
            kind = types[name]
            values[name] = (kind(param_float(state[key], getattr(defaults, name))) if kind in (int, float)
                            else str(state[key]))
    try:
        return TopicConfig(**values).validate()
    except (TypeError, ValueError) as exc:
        raise LabError(f"This link's settings are not valid: {exc}") from None


def upload_file(state: Mapping[str, Any]) -> str | None:
    """A link's uploaded CSV written back to a file (for the upload component), or None."""
    if state.get("corpus") != "upload" or not state.get("csv"):
        return None
    name = Path(str(state.get("csv_name") or "corpus.csv")).name or "corpus.csv"
    path = download_dir("topics-link-") / name
    path.write_text(str(state["csv"]), encoding="utf-8")
    return str(path)


def corpus_of(state: Mapping[str, Any], file: Any = None) -> Any:
    """The prepared :class:`~core.topics.data.Corpus` a state describes."""
    from core.topics.data import load_builtin, load_upload, prepare

    source = str(state.get("corpus") or "sample")
    if source == "upload":
        file = file or upload_file(state)
        if not file:
            raise LabError("This state's CSV is missing.")
        table = load_upload(file)
    else:
        table = load_builtin(source)
    return prepare(table, state.get("text") or table.text_column, state.get("time") or None,
                   state.get("cls") or None, hover_column=table.hover_column)


def _csv_with_header(frame: Any, block: Mapping[str, Any]) -> bytes:
    from core.exports import frame_to_csv
    from core.provenance import header_lines

    return ("\n".join(header_lines(block)) + "\n" + frame_to_csv(frame)).encode("utf-8")


def provenance(run: Any, state: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from core.provenance import header

    return header("topics", [run.config.embedding_model], asdict(run.config),
                  corpus={"name": run.corpus.name, "documents": len(run.corpus.docs),
                          "source": (state or {}).get("corpus"), "csv_name": (state or {}).get("csv_name")},
                  topics=run.n_topics, outliers=run.outliers, timings=run.timings)


def results(run: Any, state: Mapping[str, Any] | None = None) -> tuple[str, bytes]:
    """``(name, zip bytes)``: topics.csv, documents_topics.csv (provenance lines on top), provenance.json."""
    if run is None:
        raise LabError("Find topics first: the download holds the topics and each document's topic.")
    block = provenance(run, state)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("topics.csv", _csv_with_header(run.topic_table(), block))
        zf.writestr("documents_topics.csv", _csv_with_header(run.document_table(), block))
        zf.writestr("provenance.json", json.dumps(block, indent=1, ensure_ascii=False, default=str))
    return "topic-explorer-results.zip", buffer.getvalue()

"""Classifier Zoo take-home: the link state (data choice, split sizes, methods and their settings —
never the API key), the data it describes, and the comparison download (CSV with provenance)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from core.classifiers import data as cdata
from core.errors import LabError
from core.links import param_bool, param_float, param_list
from core.tempfiles import download_dir

#: Link keys of the settings (the uploaded CSV's content goes in ``csv``; it makes the link stored).
KEYS = ("source", "csv_name", "csv", "text_col", "label_col", "test", "train", "methods", "descriptions",
        "words", "prompt", "calibrate", "k", "pick", "steps", "base_url", "model")
MAX_LINK_CSV_BYTES = 1_500_000


def _file_path(file: Any) -> Path | None:
    if file is None:
        return None
    path = file.get("path") if isinstance(file, dict) else getattr(file, "path", None) or file
    return Path(str(path))


def link_state(source: str, file: Any, text_col: str, label_col: str, test_size: float, train_size: float,
               methods: Sequence[str], descriptions: str, words: str, prompt: str, calibrate: bool,
               base_url: str, model: str, k: float, pick: str, steps: float) -> dict[str, Any]:
    """Everything the Zoo's inputs hold (the API key is left out: it stays in the user's session)."""
    upload = source != cdata.BUILTIN
    state: dict[str, Any] = {"source": "upload" if upload else "builtin", "test": int(test_size or 0),
                             "train": int(train_size or 0), "methods": list(methods or []),
                             "descriptions": descriptions, "words": words, "prompt": prompt,
                             "calibrate": bool(calibrate), "k": int(k or 0), "pick": pick or "",
                             "steps": int(steps or 0), "base_url": base_url or "", "model": model or ""}
    if upload:
        path = _file_path(file)
        if path is None or not path.is_file():
            raise LabError("Upload a CSV first: a link to an uploaded data set carries the file.")
        if path.stat().st_size > MAX_LINK_CSV_BYTES:
            raise LabError(f"The CSV is {path.stat().st_size / 1e6:.1f} MB; links carry files up to "
                           f"{MAX_LINK_CSV_BYTES / 1e6:.1f} MB. Download the results or the notebook instead.")
        state.update(csv_name=path.name, csv=path.read_bytes().decode("utf-8", "replace"),
                     text_col=text_col or "", label_col=label_col or "")
    return state


def upload_file(state: Mapping[str, Any]) -> str | None:
    """A link's uploaded CSV written back to a file (its path for the upload component), or None."""
    if state.get("source") != "upload" or not state.get("csv"):
        return None
    name = Path(str(state.get("csv_name") or "data.csv")).name or "data.csv"
    folder = download_dir("classifiers-link-")
    path = folder / name
    path.write_text(str(state["csv"]), encoding="utf-8")
    return str(path)


def data_of(state: Mapping[str, Any], file: Any = None) -> cdata.LabelledData:
    """The split a state describes (``file``: the uploaded CSV's path, else written from the state)."""
    test = int(param_float(state.get("test"), cdata.DEFAULT_TEST))
    train = int(param_float(state.get("train"), cdata.DEFAULT_TRAIN))
    if state.get("source") != "upload":
        return cdata.builtin(test_size=test, train_size=train)
    file = file or upload_file(state)
    if file is None:
        raise LabError("This state's CSV is missing.")
    preview = cdata.preview_csv(file)
    return cdata.from_frame(preview.frame, str(state.get("text_col") or preview.text_column),
                            str(state.get("label_col") or preview.label_column), name=str(state.get("csv_name") or "upload"),
                            test_size=test, train_size=train, notes=preview.notes)


def settings_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The state's method settings, typed (for the provenance header and the notebook)."""
    return {"methods": param_list(state.get("methods")), "descriptions": str(state.get("descriptions") or ""),
            "words": str(state.get("words") or ""), "prompt": str(state.get("prompt") or ""),
            "calibrate": param_bool(state.get("calibrate"), True), "setfit_k": int(param_float(state.get("k"), 8)),
            "setfit_pick": str(state.get("pick") or ""), "setfit_steps": int(param_float(state.get("steps"), 0)),
            "test_size": int(param_float(state.get("test"), cdata.DEFAULT_TEST)),
            "train_size": int(param_float(state.get("train"), cdata.DEFAULT_TRAIN)),
            "data": str(state.get("csv_name") or cdata.BUILTIN), "seed": cdata.SEED}


def models_of(methods: Sequence[str]) -> list[str]:
    """Catalogue models the chosen methods run."""
    out = []
    for key in methods:
        if key in ("embed_lr", "zeroshot", "setfit", "task"):
            out.append("embed-mpnet")
        elif key == "generative":
            out.append("chat-smollm2-135m")
    return list(dict.fromkeys(out))


COLUMNS = ["method", "key", "model", "accuracy", "precision (w)", "recall (w)", "F1 (w)", "macro F1", "book F1",
           "docs/s", "train s", "test examples", "status"]


def results(ev: Any, state: Mapping[str, Any]) -> tuple[str, bytes]:
    """The Evaluate tab's comparison as CSV, under ``# key: value`` provenance lines."""
    from core.exports import to_csv_text
    from core.provenance import header, header_lines

    if ev is None:
        raise LabError("Evaluate the chosen methods first: the download holds their comparison.")
    settings = settings_of(state)
    rows = []
    for r in ev.results:
        m = r.metrics
        rows.append([r.title, r.key, r.model if r.ok else "", *(
            [round(m.accuracy, 4), round(m.precision, 4), round(m.recall, 4), round(m.f1, 4), round(m.macro_f1, 4)]
            if m else [None] * 5), r.book_f1, round(r.docs_per_s, 1) if r.ok and r.predict_s > 0 else None,
            round(r.fit_s, 2) if r.ok else None, len(ev.data.test_texts), "ok" if r.ok else f"error: {r.error}"])
    block = header("classifiers", models_of([r.key for r in ev.results]), settings,
                   data={"name": ev.data.name, "fingerprint": ev.data.fingerprint, "classes": ev.data.classes,
                         "train": len(ev.data.train_texts), "test": len(ev.data.test_texts)})
    text = "\n".join(header_lines(block)) + "\n" + to_csv_text(rows, COLUMNS)
    return "classifier-zoo-comparison.csv", text.encode("utf-8")

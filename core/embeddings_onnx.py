"""ONNX Runtime backend for sentence embeddings (``LLM_LAB_EMBED_BACKEND=onnx``; off by default).

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which pins
``transformers<4.58`` (the lab runs transformers 5), so the lab exports the model's transformer
itself (``torch.onnx.export``, once, under ``<cache>/models/onnx/``) and runs it with
``onnxruntime``, pooling and normalising like the sentence-transformers model does (mean or CLS
pooling). Measured against torch in ``bench/bench_embeddings.py`` (docs/BENCHMARKS.md).
"""
from __future__ import annotations

import hashlib
import importlib.util
import threading
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from core.settings import get_settings

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_export_lock = threading.Lock()


def available() -> bool:
    """Whether onnxruntime is installed."""
    return importlib.util.find_spec("onnxruntime") is not None


def onnx_path(model_name: str) -> Path:
    """Where the export of ``model_name`` (in the current mode) lives."""
    from core.embeddings import identity

    ident = identity(model_name)
    slug = "".join(c if c.isalnum() else "-" for c in ident)[:60]
    return get_settings().models_dir / "onnx" / f"{slug}-{hashlib.sha1(ident.encode()).hexdigest()[:8]}" / "model.onnx"


def export(model_name: str) -> Path:
    """Export the transformer of sentence-transformers model ``model_name`` to ONNX (once)."""
    import torch

    from core.loader import load

    path = onnx_path(model_name)
    with _export_lock:
        if path.exists():
            return path
        st = load(model_name)
        bert = st[0].auto_model.eval()
        sample = st.tokenizer(["an example", "a second, longer example sentence"], padding=True, return_tensors="pt")
        names = [n for n in INPUTS if n in sample]

        class Hidden(torch.nn.Module):
            def __init__(self, model: Any) -> None:
                super().__init__()
                self.model = model

            def forward(self, *args: Any) -> Any:
                return self.model(**dict(zip(names, args))).last_hidden_state

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("model.partial.onnx")
        axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes the dynamic axes cover
            torch.onnx.export(Hidden(bert), tuple(sample[n] for n in names), str(tmp), input_names=names,
                              output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
        tmp.replace(path)
        return path


class OnnxEncoder:
    """A sentence encoder on ONNX Runtime with the tokenizer and pooling of the torch model."""

    def __init__(self, path: Path, tokenizer: Any, max_length: int, pooling: str, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer, self.max_length, self.pooling = tokenizer, max_length, pooling

    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = True) -> np.ndarray:
        """Embeddings ``[len(texts), dim]``; texts are batched longest first (less padding)."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(texts), max(1, batch_size)):
            idx = order[start:start + batch_size]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
            hidden = self.session.run(None, {n: enc[n].astype(np.int64) for n in self.inputs})[0]
            if self.pooling == "cls":
                vecs = hidden[:, 0]
            else:
                mask = enc["attention_mask"][..., None].astype(np.float32)
                vecs = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            if normalize:
                vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
            if out is None:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _pooling(st: Any) -> str:
    for module in st:
        mode = getattr(module, "pooling_mode", None) or getattr(module, "get_pooling_mode_str", lambda: None)()
        if mode:
            return "cls" if "cls" in str(mode) else "mean"
    return "mean"


def encoder(model_name: str) -> OnnxEncoder:
    """The ONNX encoder of ``model_name`` (exported on first use; kept in the model cache)."""
    from core.embeddings import identity
    from core.loader import cache, load

    settings = get_settings()

    def build() -> OnnxEncoder:
        st = load(model_name)
        return OnnxEncoder(export(model_name), st.tokenizer, int(st.max_seq_length or 512), _pooling(st),
                           threads=settings.torch_threads)

    path = onnx_path(model_name)
    size_mb = int(path.stat().st_size / 2**20) + 20 if path.exists() else 110
    return cache().get((identity(model_name, settings), "onnx"), size_mb, build)

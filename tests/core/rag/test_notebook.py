"""RAG Chat's "Open as notebook": run with nbclient on the built-in corpus, it retrieves the same top-k
passages (chunk ids, in order) as the lab, with the same cosines, and writes the same greedy answer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.notebooks import execute, outputs_json
from core.rag.chunking import ChunkConfig
from core.rag.documents import builtin_corpus
from core.rag.notebook import notebook
from apps.rag import MANIFEST

STATE = {"question": "What went wrong with Hubble's mirror?", "mode": "hybrid", "k": 3, "threshold": 0.3,
         "strategy": "tokens", "size": 100, "overlap": 20, "style": "generative", "kind": "Local model",
         "model": "chat-smollm2-135m", "max_new": 32}


def test_notebook_carries_documents_and_names_the_book() -> None:
    nb = notebook(STATE, list(builtin_corpus()), app=MANIFEST)
    name, _ = nb.bundle()
    assert name.endswith(".zip") and "documents.json" in nb.data
    text = "".join("".join(c["source"]) for c in json.loads(nb.to_json())["cells"])
    assert "chapter 8" in text and "bm25s" in text and "faiss.IndexFlatIP" in text and "def rrf" in text


def test_notebook_reproduces_top_k_passages_and_answer(tmp_path: Path) -> None:
    import zipfile
    from io import BytesIO

    from core.generation import LOCAL, llamacpp_available, make_backend
    from core.rag.answer import DEFAULT_PARAMS, answer_stream
    from core.rag.models import encode_passages
    from core.rag.store import build_collection

    if not llamacpp_available():
        pytest.skip("llama-cpp-python is not installed")
    docs = list(builtin_corpus())
    coll = build_collection(docs, ChunkConfig("tokens", 100, 20)).collection
    from dataclasses import replace

    ans = None
    for ans in answer_stream(STATE["question"], coll, make_backend(LOCAL), mode="hybrid", k=3, threshold=0.3,
                             params=replace(DEFAULT_PARAMS, max_new_tokens=32), embed=encode_passages):
        pass
    name, content = notebook(STATE, docs, app=MANIFEST).bundle()
    with zipfile.ZipFile(BytesIO(content)) as zf:
        zf.extractall(tmp_path)
    result = outputs_json(execute(str(tmp_path / "llm-lab-rag.ipynb"), timeout_s=180))
    assert result["chunks"] == len(coll)
    assert result["ids"] == [h.chunk.id for h in ans.hits] and result["ids"]
    assert result["cosines"] == pytest.approx([h.relevance for h in ans.hits], abs=1e-4)
    assert result["dropped"] == [h.chunk.id for h in ans.dropped]
    assert result["answer"] == ans.text

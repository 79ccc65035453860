"""RAG Chat's take-home row: a link to the question, retriever, k, threshold and chunking (with the
uploaded documents stored server-side), the chat with its sources and the retrieval table as JSON
under a provenance header, and the notebook (:mod:`core.rag.notebook`)."""
from __future__ import annotations

import json
from typing import Any

import gradio as gr

from apps.common import error_html
from apps.common.takehome import TakeHome, restore, takehome
from core.errors import LabError
from core.links import param_bool, param_float
from apps.rag import MANIFEST

SLUG = "rag"
#: Link keys, in the order of the settings components given to :func:`build`.
KEYS = ("question", "mode", "rerank", "k", "threshold", "strategy", "size", "overlap", "style", "kind", "model",
        "base_url", "remote_model", "max_new")


def answer_record(ans: Any, k: float, threshold: float) -> dict[str, Any]:
    """One answer as data: the question, the answer, the prompt and the retrieval table."""
    cited = {c.n for c in ans.citations}

    def row(n: Any, h: Any) -> dict[str, Any]:
        return {"n": n, "chunk_id": h.chunk.id, "document": h.chunk.doc, "page": h.chunk.page,
                "retriever": h.retriever, "score": h.score, "cosine": h.relevance, "cited": n in cited,
                "ranks": dict(h.parts), "text": h.chunk.text}

    return {"question": ans.question, "mode": ans.mode, "style": ans.style, "k": int(k), "threshold": float(threshold),
            "answer": ans.text, "not_found": ans.not_found, "notes": list(ans.notes), "prompt": ans.prompt,
            "sources": [row(n, h) for n, h in enumerate(ans.hits, start=1)],
            "under_threshold": [row(None, h) for h in ans.dropped]}


def _settings(values: tuple[Any, ...]) -> tuple[Any, dict[str, Any]]:
    session, rest = values[0], dict(zip(KEYS, values[1:]))
    if not (rest.get("question") or "").strip() and session is not None and session.answers:
        rest["question"] = session.answers[-1]["question"]
    return session, rest


def _documents(session: Any) -> list[Any]:
    from core.rag.store import IndexStore

    if session is None or not session.refs:
        return []
    store = IndexStore()
    docs = [store.load_doc(r) for r in session.refs]
    if any(d is None for d in docs):
        raise LabError("A document of this session is no longer stored (it was cleared); load it again.")
    return docs


def _only_builtin(session: Any) -> bool:
    from core.rag.documents import builtin_corpus

    return bool(session and session.builtin and sorted(r.sha for r in session.refs)
                == sorted(d.sha256 for d in builtin_corpus()))


def link_state(*values: Any) -> dict[str, Any]:
    session, state = _settings(values)
    if session is not None and session.refs:
        if _only_builtin(session):
            state["corpus"] = "builtin"
        else:
            from core.rag.notebook import documents_json

            state["documents"] = json.loads(documents_json(_documents(session)))
    return state


def make_notebook(*values: Any) -> Any:
    from core.rag.notebook import notebook

    session, state = _settings(values)
    docs = _documents(session)
    if not docs and state.get("mode") != "none":
        raise LabError("Load documents first (upload files or use the built-in corpus): the notebook retrieves "
                       "from them.")
    if not (state.get("question") or "").strip():
        raise LabError("Type (or ask) a question first: the notebook reproduces its retrieval and answer.")
    return notebook(state, docs, app=MANIFEST)


def results(*values: Any) -> tuple[str, bytes]:
    """The chat with its sources and the retrieval table of the last answer (JSON)."""
    from core.provenance import header
    from core.rag.models import EMBEDDER

    session, state = _settings(values)
    answers = list(session.answers) if session is not None else []
    if not answers:
        raise LabError("Nothing to download yet: ask a question on the Chat tab first.")
    cfg = session.config
    models = [EMBEDDER] + ([state.get("model")] if state.get("kind") == "Local model" else [])
    block = header(SLUG, models, {**{k: state.get(k) for k in KEYS if k != "question"},
                                  "chunking": cfg.key() if cfg else None,
                                  "documents": [r.name for r in session.refs]})
    doc = {"provenance": block, "chat": answers, "retrieval_table": answers[-1]["sources"]}
    return "llm-lab-rag.json", json.dumps(doc, indent=1, ensure_ascii=False, default=str).encode()


def _restored(params: dict[str, Any]) -> tuple[Any, list[Any]]:
    """(the documents to index, or None, and the settings' updates in :data:`KEYS` order)."""
    from core.rag.chunking import Document
    from core.rag.documents import builtin_corpus

    docs = None
    if params.get("corpus") == "builtin":
        docs = list(builtin_corpus())
    elif isinstance(params.get("documents"), list):
        docs = [Document(str(d["name"]), tuple(str(p) for p in d["pages"]), str(d.get("kind", "text")))
                for d in params["documents"] if isinstance(d, dict) and d.get("pages")]

    def val(key: str, cast: Any) -> Any:
        return cast(params[key]) if key in params else gr.skip()

    updates = [val("question", str), val("mode", str), val("rerank", param_bool), val("k", lambda v: param_float(v, 3)),
               val("threshold", lambda v: param_float(v, 0.3)), val("strategy", str),
               val("size", lambda v: int(param_float(v, 100))), val("overlap", lambda v: int(param_float(v, 20))),
               val("style", str), val("kind", str), val("model", str), val("base_url", str), val("remote_model", str),
               val("max_new", lambda v: param_float(v, 160))]
    return docs, updates


def build(demo: gr.Blocks, state: Any, settings: list[Any], index_outputs: list[Any], sources: Any) -> TakeHome:
    """The row and the link restore on page load (documents re-indexed, the question's passages shown)."""
    from apps.rag import events as ev

    row = takehome(SLUG, [state, *settings], link_state=link_state, results=results, notebook=make_notebook)
    n = len(index_outputs) + len(settings) + 2

    def on_load(current: Any, request: gr.Request) -> list[Any]:
        try:
            params = restore(SLUG, request)
            if not params:
                return [gr.skip()] * n
            docs, updates = _restored(params)
            index = [gr.skip()] * len(index_outputs)
            shown = gr.skip()
            if docs:
                cfg = ev.config(params.get("strategy", "tokens"), param_float(params.get("size"), 100),
                                param_float(params.get("overlap"), 20))
                session, result = ev._index(current, docs, cfg, builtin=params.get("corpus") == "builtin")
                index = list(ev._index_outputs(session, result, [], []))
                shown = _passages(session, params)
            return index + updates + [shown, '<div class="lab-note">Restored from the link: the documents are '
                                             'indexed and the question\'s passages shown; press Ask to answer.</div>']
        except LabError as exc:
            return [gr.skip()] * (n - 1) + [error_html(str(exc))]

    demo.load(on_load, [state], index_outputs + settings + [sources, row.message], api_visibility="private",
              show_progress="hidden")
    return row


def _passages(session: Any, params: dict[str, Any]) -> Any:
    """The sources panel for the link's question: retrieval only (no model call)."""
    from apps.rag import events as ev
    from apps.rag import views
    from core.rag.answer import RagAnswer, retrieve_parts

    question, mode = str(params.get("question") or "").strip(), str(params.get("mode") or "hybrid")
    if not question or mode == "none":
        return gr.skip()
    rerank = param_bool(params.get("rerank")) and mode != "none"
    full = f"{mode}+rerank" if rerank else mode
    hits, dropped, _ = retrieve_parts(question, ev.collection(session), full, int(param_float(params.get("k"), 3)),
                                      param_float(params.get("threshold"), 0.3), ev._reranker(rerank))
    return views.sources_html(RagAnswer(question, full, hits=hits, dropped=dropped), "rag-src-0")

"""RAG Chat's event handlers: UI values in, core calls, views out. No layout here (see app.py)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from apps.common import esc_md, session_hash, user_errors
from apps.rag import rooms, views
from core.errors import LabError
from core.jobs import report as job_report
from core.jobs import stop_event

#: (The book's "how precise was the science" scores cosine 0.22 against 100-token chunks, under the 0.3
#: threshold; it stays in the Evaluate tab's labelled set.)
EXAMPLES = ["Which physicist advised the filmmakers?", "How much money did Interstellar make?",
            "What went wrong with Hubble's mirror?", "What is the mass of the moon?",
            "Why use overlapping chunks?"]
BUILTIN_NOTE = "Built-in corpus: sources and licences are in assets/rag/SOURCES.md."
GENERATIVE, EXTRACTIVE = "generative", "extractive"


@dataclass
class Session:
    """Per-browser-session state (picklable): the documents, their chunking, and who holds them."""

    refs: list = field(default_factory=list)  # core.rag.store.DocRef
    config: Any = None  # core.rag.chunking.ChunkConfig
    turn: int = 0
    holder: str = ""  # core.rag.sessions holder name of this browser session
    builtin: bool = False  # the built-in corpus is what is loaded
    answers: list = field(default_factory=list)  # the last answers as data (take-home download, link)
    embedder: str = ""  # dense embedder's model name ("" = the lab's; a trained one: core.training.session_models)


def _holder(state: Session | None) -> str:
    from core.rag.sessions import session_holder

    return state.holder if state and state.holder else session_holder(session_hash())


def release_session(state: Session | None) -> None:
    """gr.State delete callback: a closed browser session releases its documents."""
    if state and state.refs and state.holder:
        from core.rag.sessions import release

        release(state.holder, state.refs)


def config(strategy: str, size: float, overlap: float) -> Any:
    from core.rag.chunking import ChunkConfig

    return ChunkConfig(str(strategy or "tokens"), int(size), int(overlap)).validate()


def collection(state: Session | None, room: str = "") -> Any:
    """The session's collection; in a room, the room's shared documents followed by the session's own."""
    from core.rag.store import session_collection

    room_docs = rooms.shared(room)
    own = list(state.refs) if state else []
    model = state.embedder if state and state.embedder else None
    if room_docs is None:
        return session_collection(own, state.config, model=model) if own else None
    from core.rag.room import merged_refs

    refs = merged_refs(room_docs, own)
    cfg = (state.config if state and state.config else None) or room_docs.config
    return session_collection(refs, cfg, model=model) if refs and cfg else None


def embedder(state: Session | None = None) -> str:
    from core.rag.models import EMBEDDER, embedder_label

    return embedder_label(state.embedder if state and state.embedder else EMBEDDER)


def _index_outputs(state: Session, result: Any, errors: list[str], notes: list[str], room: str = "",
                   cfg: Any = None) -> tuple:
    refs = list(state.refs)
    room_docs = rooms.shared(room)
    if room_docs is not None:  # the room's documents first, then this session's own
        from core.rag.room import merged_refs
        from core.rag.store import BuildResult

        refs = merged_refs(room_docs, refs)
        coll = collection(state, room) or result.collection
        result = BuildResult(coll, rooms.stats(refs, coll, result.stats), result.refs)
    notes = [n for ref in refs for n in ref.notes] + notes
    msg = views.index_status(refs, result, cfg or state.config, embedder(state), errors, notes)
    docs = [views.ALL_DOCS] + [r.name for r in refs]
    return (state, msg, views.stats_rows(result), gr.update(choices=docs, value=views.ALL_DOCS),
            views.chunk_rows(result.collection), examples_update(state, room))


def _index(state: Session | None, docs: list, cfg: Any, *, builtin: bool = False) -> tuple:
    """Index for this session's holder (progress and Stop through core.jobs, between embedding batches)."""
    from core.rag.sessions import BUILTIN, index_for

    state = state or Session()
    holder = _holder(state)
    refs = [] if builtin else list(state.refs)
    result = index_for(holder, state.refs, docs, cfg, replace=builtin, pin=BUILTIN if builtin else None,
                       model=state.embedder or None)
    keeps_builtin = state.builtin and not builtin and bool(refs)
    new = Session(result.refs, cfg, state.turn, holder, builtin or keeps_builtin, embedder=state.embedder)
    return new, result


@user_errors
def load_builtin(strategy: str, size: float, overlap: float, state: Session | None, room: str = "",
                 key: str = "") -> tuple:
    """The built-in corpus for this session (in a room, for the instructor: as the room's collection)."""
    from core.rag.documents import builtin_corpus

    cfg = config(strategy, size, overlap)
    if rooms.staff(room, key):
        result = rooms.index_room(room, key, list(builtin_corpus()), cfg, builtin=True)
        return _index_outputs(state or Session(holder=_holder(state)), result, [], [BUILTIN_NOTE], room, cfg)
    state, result = _index(state, list(builtin_corpus()), cfg, builtin=True)
    return _index_outputs(state, result, [], [BUILTIN_NOTE], room)


@user_errors
def index_files(files: Any, strategy: str, size: float, overlap: float, state: Session | None, room: str = "",
                key: str = "") -> tuple:
    """Index new uploads (added to what the session holds); without files, re-chunk what is loaded.
    In a room the instructor's uploads go to the room's collection, a participant's to their session."""
    from core.rag.documents import read_documents

    cfg = config(strategy, size, overlap)
    files = files if isinstance(files, list) else ([files] if files else [])
    read = read_documents(files) if files else None
    if files and not read.docs:
        raise LabError(" ".join(read.errors))
    if rooms.staff(room, key):
        result = rooms.index_room(room, key, read.docs if read else [], cfg)
        return _index_outputs(state or Session(holder=_holder(state)), result, read.errors if read else [], [],
                              room, cfg)
    if not files and state and state.refs:
        state, result = _index(state, [], cfg)
        return _index_outputs(state, result, [], [], room)
    if not files and rooms.shared(room) is not None:  # re-chunk the room's documents for this session only
        from core.rag.store import BuildResult

        state = replace(state or Session(holder=_holder(state)), config=cfg)
        coll = collection(state, room)
        if coll is None:
            raise LabError("The room has no documents yet: wait for your instructor, or upload your own.")
        return _index_outputs(state, BuildResult(coll), [], [], room)
    if read is None:
        raise LabError("Choose PDF, TXT or Markdown files to upload first.")
    rooms.need_open(room)
    state, result = _index(state, read.docs, cfg)
    return _index_outputs(state, result, read.errors, [], room)


@user_errors
def browse_chunks(state: Session | None, doc: str | None, needle: str, room: str = "") -> list[list]:
    return views.chunk_rows(collection(state, room), doc, needle)


@user_errors
def clear_documents(state: Session | None, room: str = "", key: str = "") -> tuple:
    """Release this session's documents: stored files go only when nobody else uses them. In a room a
    participant clears only their own uploads (the room's documents stay); the instructor empties the
    room's collection."""
    from core.rag.sessions import release

    if rooms.staff(room, key):
        released, deleted = rooms.clear_room(room, key)
    else:
        released, deleted = release(state.holder, state.refs) if state and state.refs and state.holder else (0, 0)
    fresh = Session(turn=state.turn if state else 0, holder=state.holder if state else "",
                    embedder=state.embedder if state else "")
    coll = collection(fresh, room)
    docs = [views.ALL_DOCS] + ([r.name for r in rooms.shared(room).refs] if coll is not None else [])
    return (fresh, views.cleared_status(released, deleted), [],
            gr.update(choices=docs, value=views.ALL_DOCS), views.chunk_rows(coll), examples_update(fresh, room),
            [], views.EMPTY_SOURCES, "")


def examples_update(state: Session | None, room: str = "") -> Any:
    """The "Try" questions follow the loaded documents."""
    return gr.update(samples=[[q] for q in try_questions(state, room)])


def try_questions(state: Session | None, room: str = "") -> list[str]:
    """Built-in questions only while the built-in corpus is loaded; else questions from the documents."""
    room_docs = rooms.shared(room)
    if room_docs is not None and room_docs.refs and not (state and state.refs):
        if room_docs.builtin:
            return EXAMPLES
    elif state is None or not state.refs:
        return EXAMPLES
    elif state.builtin:
        return EXAMPLES
    from core.rag.questions import suggest_questions

    coll = collection(state, room)
    return suggest_questions(coll.chunks if coll is not None else []) or ["What is this document about?"]


def _backend(kind: str, model: str, base_url: str, api_key: str, remote_model: str) -> Any:
    """The backend of the Model panel's picker (RAG's API takes the key before the server model)."""
    from apps.common.backend import make

    return make(kind, model, base_url, remote_model, api_key)


def _reranker(rerank: bool) -> Any:
    if not rerank:
        return None
    from core.rag.models import cross_encoder_scores, reranker_status

    ok, note = reranker_status()
    if not ok:
        raise LabError(note)
    return cross_encoder_scores


def _params(max_new: float) -> Any:
    from core.rag.answer import DEFAULT_PARAMS

    return replace(DEFAULT_PARAMS, max_new_tokens=int(max_new))


def _embed() -> Any:
    from core.rag.models import encode_passages

    return encode_passages


@user_errors
def ask(question: str, history: list | None, state: Session | None, mode: str, rerank: bool, k: float,
        threshold: float, kind: str, model: str, base_url: str, api_key: str, remote_model: str,
        max_new: float, style: str = GENERATIVE, room: str = "") -> Iterator[tuple]:
    from core.rag.answer import answer_stream

    question = (question or "").strip()
    if not question:
        raise LabError("Type a question first.")
    history = list(history or [])
    state = replace(state or Session(), turn=(state.turn if state else 0) + 1)
    prefix = f"rag-src-{state.turn}"
    coll = collection(state, room) if mode != "none" else None
    if mode != "none" and coll is None:
        raise LabError("No documents are loaded: upload PDF, TXT or Markdown files or use the built-in corpus "
                       "on the Documents tab (or choose 'No retrieval').")
    if style == EXTRACTIVE and mode == "none":
        raise LabError("An extractive answer quotes your documents: choose a retrieval mode, not 'No retrieval'.")
    backend = None if style == EXTRACTIVE else _backend(kind, model, base_url, api_key, remote_model)
    full_mode = f"{mode}+rerank" if rerank and mode != "none" else mode
    history += [{"role": "user", "content": esc_md(question)}, {"role": "assistant", "content": "…"}]
    for ans in answer_stream(question, coll, backend, mode=full_mode, k=int(k), threshold=float(threshold),
                             params=_params(max_new), reranker=_reranker(rerank and mode != "none"),
                             embed=_embed(), style=style, stop=stop_event()):
        history[-1] = {"role": "assistant", "content": views.answer_html(ans, prefix)}
        if ans.done:
            from apps.rag.takehome_row import answer_record

            state = replace(state, answers=[*state.answers, answer_record(ans, k, threshold)][-20:])
        yield history, views.sources_html(ans, prefix), ans.prompt, state, ""


@user_errors
def compare(question: str, state: Session | None, rerank: bool, k: float, threshold: float, kind: str,
            model: str, base_url: str, api_key: str, remote_model: str, max_new: float,
            room: str = "") -> Iterator[tuple]:
    from core.rag.answer import compare_stream
    from core.rag.search import RETRIEVER_LABELS

    coll = collection(state, room)
    if coll is None:
        raise LabError("No documents are loaded: upload files or use the built-in corpus on the Documents tab.")
    backend = _backend(kind, model, base_url, api_key, remote_model)
    modes = ["none", "bm25", "dense", "hybrid+rerank" if rerank else "hybrid"]
    for results in compare_stream(question, coll, backend, modes=modes, k=int(k), threshold=float(threshold),
                                  params=_params(max_new), reranker=_reranker(rerank), embed=_embed(),
                                  stop=stop_event()):
        yield tuple(views.compare_cell(results.get(m), m, RETRIEVER_LABELS.get(m, m)) for m in modes)


@user_errors
def evaluate(rows: Any, k: float, state: Session | None, rerank: bool, room: str = "") -> tuple:
    import pandas as pd

    from core.rag.evaluation import evaluate as run_eval
    from core.rag.evaluation import parse_items

    coll = collection(state, room)
    if coll is None:
        raise LabError("No documents are loaded: load the built-in corpus (its labelled set is pre-filled) "
                       "or upload files and write your own questions.")
    values = rows.values.tolist() if hasattr(rows, "values") else (rows.get("data") if isinstance(rows, dict) else rows)
    report = run_eval(coll, parse_items(values or []), k=int(k), reranker=_reranker(rerank), progress=job_report)
    detail = [[item["question"]] + [s.per_question[i]["first relevant rank"] or "—" for s in report.scores]
              for i, item in enumerate(report.scores[0].per_question)]
    return (pd.DataFrame(report.table(), columns=report.headers()),
            pd.DataFrame(detail, columns=["question"] + [f"{s.retriever}: first hit rank" for s in report.scores]),
            views.eval_note(report, len(coll)))


def eval_rows() -> list[list[str]]:
    from core.rag.documents import builtin_eval_set

    return [[i.question, " || ".join(i.passages)] for i in builtin_eval_set()]

"""RAG Chat (book ch. 8): chat with your documents, with every retrieval step visible and cited.

Layout and wiring only; the logic lives in ``core.rag`` and ``core.rag.answer``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import gradio as gr

from apps.rag import MANIFEST
from apps.common import HEAVY, app_title, error_html, esc, esc_md, heavy_limit, user_errors, warn_html
from core.errors import LabError

SLUG = "rag"
CSS = MANIFEST.css

EXAMPLES = ["how precise was the science", "How much money did Interstellar make?",
            "What went wrong with Hubble's mirror?", "What is the mass of the moon?",
            "Why use overlapping chunks?"]
MODE_CHOICES = [("No retrieval", "none"), ("BM25 (keywords)", "bm25"), ("Dense (embeddings)", "dense"),
                ("Hybrid (RRF, k=60)", "hybrid")]
LOCAL, REMOTE = "Local model", "OpenAI-compatible server"


@dataclass
class Session:
    """Per-browser-session state (picklable): the documents and the chunking they were indexed with."""

    refs: list = field(default_factory=list)  # core.rag.store.DocRef
    config: Any = None  # core.rag.chunking.ChunkConfig
    turn: int = 0


# --------------------------------------------------------------------------------------------
# helpers (no model work at import)
# --------------------------------------------------------------------------------------------

def _config(strategy: str, size: float, overlap: float) -> Any:
    from core.rag.chunking import ChunkConfig

    return ChunkConfig(str(strategy or "sentence"), int(size), int(overlap)).validate()


def _collection(state: Session | None) -> Any:
    from core.rag.store import session_collection

    if not state or not state.refs:
        return None
    return session_collection(state.refs, state.config)


def _chunk_rows(collection: Any, doc: str | None = None, needle: str = "", limit: int = 500) -> list[list]:
    if collection is None:
        return []
    needle = (needle or "").strip().lower()
    rows = []
    for c in collection.chunks:
        if doc and doc != "(all documents)" and c.doc != doc:
            continue
        if needle and needle not in c.text.lower():
            continue
        rows.append([c.id + 1, c.doc, c.page if c.page is not None else "", len(c.text), c.text])
        if len(rows) >= limit:
            break
    return rows


def _index_outputs(state: Session, result: Any, errors: list[str], extra_notes: list[str]) -> tuple:
    coll = result.collection
    stats = [[s.name, s.kind, s.pages, s.chars, s.chunks, "yes" if s.cached else "no", round(s.seconds, 2)]
             for s in result.stats]
    notes = [n for ref in state.refs for n in ref.notes] + extra_notes
    msg = (f'<div class="rag-ok">Indexed {len(state.refs)} document(s): {sum(s.pages for s in result.stats)} '
           f'page(s), {sum(s.chars for s in result.stats):,} characters, {len(coll):,} chunks '
           f'({esc(state.config.describe())}, {esc(state.config.strategy)}). Embedder: {esc(_embedder())}.</div>')
    if errors:
        msg += "".join(error_html(e) for e in errors)
    if notes:
        msg += "".join(warn_html(n) for n in notes)
    docs = ["(all documents)"] + [r.name for r in state.refs]
    return (state, msg, stats, gr.update(choices=docs, value="(all documents)"), _chunk_rows(coll))


def _embedder() -> str:
    from core.rag.models import embedder_label

    return embedder_label()


def _build(state: Session | None, docs: list, config: Any, progress: Any) -> tuple[Session, Any]:
    from core.rag.store import IndexStore, build_collection

    store = IndexStore()
    state = state or Session()
    existing = [] if state is None else [store.load_doc(r) for r in state.refs]
    missing = [r.name for r, d in zip(state.refs, existing) if d is None]
    if missing:
        raise LabError(f"The stored text of {', '.join(missing)} was cleared; upload it again.")
    known = {d.sha256 for d in existing}
    all_docs = existing + [d for d in docs if d.sha256 not in known]
    if not all_docs:
        raise LabError("No documents to index: upload files or use the built-in corpus.")
    result = build_collection(all_docs, config, store=store,
                              progress=lambda f, d: progress(f, desc=d))
    return Session(result.refs, config, state.turn), result


@user_errors
def load_builtin(strategy: str, size: float, overlap: float, state: Session | None,
                 progress: gr.Progress = gr.Progress()) -> tuple:
    from core.rag.documents import builtin_corpus

    config = _config(strategy, size, overlap)
    state, result = _build(Session(turn=state.turn if state else 0), list(builtin_corpus()), config, progress)
    return _index_outputs(state, result, [], ["Built-in corpus: sources and licences are in assets/rag/SOURCES.md."])


@user_errors
def index_files(files: Any, strategy: str, size: float, overlap: float, state: Session | None,
                progress: gr.Progress = gr.Progress()) -> tuple:
    from core.rag.documents import read_documents

    config = _config(strategy, size, overlap)
    files = files if isinstance(files, list) else ([files] if files else [])
    if not files and state and state.refs:  # re-chunk what is already loaded
        state, result = _build(state, [], config, progress)
        return _index_outputs(state, result, [], [])
    read = read_documents(files)
    if not read.docs:
        raise LabError(" ".join(read.errors))
    state, result = _build(state, read.docs, config, progress)
    return _index_outputs(state, result, read.errors, [])


@user_errors
def browse_chunks(state: Session | None, doc: str | None, needle: str) -> list[list]:
    return _chunk_rows(_collection(state), doc, needle)


@user_errors
def clear_documents(state: Session | None) -> tuple:
    from core.rag.store import IndexStore

    n = IndexStore().delete(state.refs) if state and state.refs else 0
    msg = (f'<div class="rag-ok">Cleared your documents: deleted {n} stored file(s) and index folder(s) '
           f'from the server.</div>' if n else '<div class="rag-empty">No documents were loaded.</div>')
    return (Session(turn=state.turn if state else 0), msg, [], gr.update(choices=["(all documents)"],
            value="(all documents)"), [], [], _sources_html(None, ""), "")


def _backend(kind: str, model: str, base_url: str, api_key: str, remote_model: str) -> Any:
    from core.generation import LocalBackend, OpenAIBackend

    if kind == REMOTE:
        return OpenAIBackend(base_url=(base_url or "").strip(), model=(remote_model or "").strip(),
                             api_key=(api_key or "").strip())
    return LocalBackend(model_name=model or "chat-smollm2-135m")


def _reranker(rerank: bool) -> Any:
    if not rerank:
        return None
    from core.rag.models import cross_encoder_scores, reranker_status

    ok, note = reranker_status()
    if not ok:
        raise LabError(note)
    return cross_encoder_scores


def _params(max_new: float) -> Any:
    from dataclasses import replace

    from core.rag.answer import DEFAULT_PARAMS

    return replace(DEFAULT_PARAMS, max_new_tokens=int(max_new))


def _embed() -> Any:
    from core.rag.models import encode_passages

    return encode_passages


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------

def _cite_title(hit: Any) -> str:
    rel = f", cosine {hit.relevance:.2f}" if hit.relevance is not None else ""
    return f"{hit.chunk.where()} · {hit.retriever} score {hit.score:.3f}{rel}"


def answer_html(ans: Any, prefix: str) -> str:
    """Answer text with [n] links to the sources panel (user/model text escaped for HTML and Markdown)."""
    if not ans.done:
        return esc_md(ans.text) + " ▌"
    parts = []
    for seg in ans.segments:
        parts.append(esc_md(seg.text))  # Markdown too: the chat renders it
        for n in seg.cites:
            hit = ans.hits[n - 1]
            cls = "rag-cite inferred" if seg.inferred else "rag-cite"
            label = f"≈{n}" if seg.inferred else str(n)
            parts.append(f'<a class="{cls}" href="#{prefix}-{n}" title="{esc(_cite_title(hit))}">[{label}]</a>')
    html = "".join(parts).strip() or "<em>(the model returned no text)</em>"
    if ans.notes:
        html += "".join(f'<div class="rag-notes">{esc(n)}</div>' for n in ans.notes)
    return html


def _sources_html(ans: Any, prefix: str) -> str:
    if ans is None:
        return '<div class="rag-empty">Retrieved passages appear here, with their scores.</div>'
    if ans.mode == "none":
        return '<div class="rag-empty">No retrieval: the model answered from its own weights.</div>'
    cited = {c.n for c in ans.citations}
    cards = []
    for i, h in enumerate(ans.hits, start=1):
        rel = f" · cos {h.relevance:.2f}" if h.relevance is not None else ""
        fused = (" · " + ", ".join(f"{k} #{v}" for k, v in h.parts.items())) if h.parts else ""
        cards.append(
            f'<div class="rag-src{" cited" if i in cited else ""}" id="{prefix}-{i}">'
            f'<div class="rag-src-head"><span><span class="rag-n">[{i}]</span> {esc(h.chunk.where())} '
            f'· chunk {h.chunk.id + 1}</span><span class="rag-score">{esc(h.retriever)} {h.score:.3f}{rel}'
            f'{esc(fused)}</span></div><div class="rag-src-text">{esc(h.chunk.text)}</div></div>')
    for h in ans.dropped:
        cards.append(
            f'<div class="rag-src dropped"><div class="rag-src-head"><span>under threshold · '
            f'{esc(h.chunk.where())}</span><span class="rag-score">cos {h.relevance:.2f}</span></div>'
            f'<div class="rag-src-text">{esc(h.chunk.text[:300])}</div></div>')
    if not cards:
        return '<div class="rag-empty">No passage was retrieved.</div>'
    return f'<div class="rag-sources">{"".join(cards)}</div>'


# --------------------------------------------------------------------------------------------
# chat, compare, evaluate
# --------------------------------------------------------------------------------------------

@user_errors
def ask(question: str, history: list | None, state: Session | None, mode: str, rerank: bool, k: float,
        threshold: float, kind: str, model: str, base_url: str, api_key: str, remote_model: str,
        max_new: float) -> Iterator[tuple]:
    from core.rag.answer import answer_stream

    question = (question or "").strip()
    if not question:
        raise LabError("Type a question first.")
    history = list(history or [])
    state = state or Session()
    turn = state.turn + 1
    state = Session(state.refs, state.config, turn)
    prefix = f"rag-src-{turn}"
    collection = _collection(state) if mode != "none" else None
    if mode != "none" and collection is None:
        raise LabError("No documents are loaded: upload PDF, TXT or Markdown files or use the built-in corpus "
                       "on the Documents tab (or choose 'No retrieval').")
    backend = _backend(kind, model, base_url, api_key, remote_model)
    full_mode = f"{mode}+rerank" if rerank and mode != "none" else mode
    history += [{"role": "user", "content": esc_md(question)}, {"role": "assistant", "content": "…"}]
    for ans in answer_stream(question, collection, backend, mode=full_mode, k=int(k), threshold=float(threshold),
                             params=_params(max_new), reranker=_reranker(rerank and mode != "none"),
                             embed=_embed()):
        history[-1] = {"role": "assistant", "content": answer_html(ans, prefix)}
        yield history, _sources_html(ans, prefix), ans.prompt, state, ""


@user_errors
def compare(question: str, state: Session | None, rerank: bool, k: float, threshold: float, kind: str,
            model: str, base_url: str, api_key: str, remote_model: str, max_new: float) -> Iterator[tuple]:
    from core.rag.answer import compare_stream

    collection = _collection(state)
    if collection is None:
        raise LabError("No documents are loaded: upload files or use the built-in corpus on the Documents tab.")
    backend = _backend(kind, model, base_url, api_key, remote_model)
    modes = ["none", "bm25", "dense", "hybrid+rerank" if rerank else "hybrid"]
    for results in compare_stream(question, collection, backend, modes=modes, k=int(k),
                                  threshold=float(threshold), params=_params(max_new),
                                  reranker=_reranker(rerank), embed=_embed()):
        yield tuple(_compare_cell(results.get(m), m) for m in modes)


def _compare_cell(ans: Any, mode: str) -> str:
    from core.rag.search import RETRIEVER_LABELS

    title = f"<h4>{esc(RETRIEVER_LABELS.get(mode, mode))}</h4>"
    if ans is None:
        return f'<div class="rag-cmp">{title}<div class="rag-empty">waiting…</div></div>'
    prefix = f"rag-cmp-{mode.replace('+', '-')}"
    return (f'<div class="rag-cmp">{title}<div class="rag-answer">{answer_html(ans, prefix)}</div>'
            f'{_sources_html(ans, prefix)}</div>')


@user_errors
def evaluate(rows: Any, k: float, state: Session | None, rerank: bool,
             progress: gr.Progress = gr.Progress()) -> tuple:
    from core.rag.evaluation import evaluate as run_eval
    from core.rag.evaluation import parse_items

    collection = _collection(state)
    if collection is None:
        raise LabError("No documents are loaded: load the built-in corpus (its labelled set is pre-filled) "
                       "or upload files and write your own questions.")
    values = rows.values.tolist() if hasattr(rows, "values") else (rows.get("data") if isinstance(rows, dict) else rows)
    items = parse_items(values or [])
    report = run_eval(collection, items, k=int(k), reranker=_reranker(rerank),
                      progress=lambda f, d: progress(f, desc=d))
    detail = []
    for i, item in enumerate(report.scores[0].per_question):
        detail.append([item["question"]] + [s.per_question[i]["first relevant rank"] or "—" for s in report.scores])
    note = (f'<div class="rag-ok">Scored {report.n_questions} question(s) against {len(collection)} chunks; '
            f'a chunk is relevant when it contains a labelled passage.</div>')
    if report.unanswerable:
        note += warn_html(f"{len(report.unanswerable)} question(s) were skipped because their passage is not in "
                          f"the loaded documents: " + "; ".join(report.unanswerable[:5]))
    import pandas as pd

    return (pd.DataFrame(report.table(), columns=report.headers()),
            pd.DataFrame(detail, columns=["question"] + [f"{s.retriever}: first hit rank" for s in report.scores]),
            note)


def _eval_rows() -> list[list[str]]:
    from core.rag.documents import builtin_eval_set

    return [[i.question, " || ".join(i.passages)] for i in builtin_eval_set()]


def _chat_models() -> list[tuple[str, str]]:
    from core import catalogue
    from core.settings import get_settings

    mode = get_settings().mode
    return [(e.display(mode) if mode == "hub" else f"{e.label} → {e.offline_label}", e.name)
            for e in catalogue.entries("chat") if e.available_in(mode)]


# --------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------

def build() -> gr.Blocks:
    from core.rag.chunking import STRATEGY_LABELS
    from core.rag.models import reranker_status
    from core.rag.store import IndexStore
    from core.settings import get_settings

    settings = get_settings()
    IndexStore().clean_stale_tmp()  # temp folders of index builds killed with a previous server
    rerank_ok, rerank_note = reranker_status()
    default_model = "chat-smollm2-135m" if settings.offline else "chat-phi3-mini"
    model_note = ("Offline the answers come from SmolLM2-135M, a tiny model that often gets facts wrong and "
                  "rarely writes [n] itself: trust the sources panel, not the answer. On the Hub the default is "
                  "the book's Phi-3-mini." if settings.offline else
                  "Answers come from the model chosen under 'Model'; check them against the sources.")
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        state = gr.State(None)
        with gr.Tabs(elem_id="rag-tabs"):
            # ---------------------------------------------------------------- documents
            with gr.Tab("1 · Documents", id="rag-docs"):
                with gr.Row():
                    with gr.Column(scale=3):
                        files = gr.File(label="Upload PDF, TXT or Markdown", file_count="multiple",
                                        file_types=[".pdf", ".txt", ".md", ".markdown"], elem_id="rag-files",
                                        height=140)
                        with gr.Row():
                            index_btn = gr.Button("Index / re-chunk my files", variant="primary",
                                                  elem_id="rag-index")
                            builtin_btn = gr.Button("Use the built-in corpus", elem_id="rag-builtin")
                            clear_btn = gr.Button("Clear my documents", variant="stop", elem_id="rag-clear")
                        gr.Markdown(
                            f"Limits: {settings.limits.upload_mb} MB per file, {settings.limits.pdf_pages} PDF "
                            "pages. Scanned PDFs need OCR, which is not supported. Indexes are kept on the "
                            "server, keyed by content hash, until you clear them.", elem_classes="lab-note")
                    with gr.Column(scale=2):
                        strategy = gr.Radio([(v, k) for k, v in STRATEGY_LABELS.items()], value="sentence",
                                            label="Chunking", elem_id="rag-strategy")
                        with gr.Row():
                            size = gr.Number(value=2, minimum=1, maximum=2048, precision=0, label="Chunk size (units)")
                            overlap = gr.Number(value=0, minimum=0, maximum=2047, precision=0, label="Overlap (units)")
                        gr.Markdown("Sentence chunks of 1 reproduce the book's Interstellar demo; the book "
                                    "suggests 3–8 sentences or ~512 tokens with overlap for real documents.",
                                    elem_classes="lab-note")
                status = gr.HTML('<div class="rag-empty">No documents yet: upload files or use the built-in '
                                 'corpus.</div>', elem_classes="rag-status", elem_id="rag-status")
                stats = gr.Dataframe(headers=["document", "kind", "pages", "characters", "chunks", "from cache",
                                              "seconds"], label="Extraction and indexing", interactive=False,
                                     elem_id="rag-stats")
                with gr.Row():
                    doc_pick = gr.Dropdown(["(all documents)"], value="(all documents)", label="Browse chunks of",
                                           scale=1)
                    needle = gr.Textbox(label="Only chunks containing", placeholder="e.g. Kip Thorne", scale=2)
                chunk_table = gr.Dataframe(headers=["#", "document", "page", "chars", "text"], wrap=True,
                                           interactive=False, label="Chunk browser", max_height=420,
                                           column_widths=["6%", "16%", "6%", "7%", "65%"], elem_id="rag-chunks")
            # ---------------------------------------------------------------- chat
            with gr.Tab("2 · Chat", id="rag-chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Answers with citations", height=440, elem_id="rag-chatbot",
                                             buttons=["copy"])
                        question = gr.Textbox(label="Question", placeholder="Ask about your documents…",
                                              elem_id="rag-question", submit_btn="Ask")
                        gr.Examples(EXAMPLES, inputs=[question], label="Try", api_name="rag_example")
                        with gr.Row():
                            clear_chat = gr.Button("Clear chat", size="sm", scale=0, min_width=120)
                            gr.HTML(f'<div class="lab-note">{esc(model_note)}</div>')
                        with gr.Accordion("Exact prompt sent to the model", open=False, elem_id="rag-prompt-acc"):
                            prompt_box = gr.Code(label="prompt", language=None, lines=14, max_lines=40,
                                                 wrap_lines=True, elem_id="rag-prompt")
                    with gr.Column(scale=2):
                        mode = gr.Radio(MODE_CHOICES, value="hybrid", label="Retrieval", elem_id="rag-mode")
                        rerank = gr.Checkbox(False, label="Rerank the first stage with a cross-encoder",
                                             interactive=rerank_ok, elem_id="rag-rerank")
                        gr.HTML(f'<div class="lab-note">{esc(rerank_note)}</div>')
                        with gr.Row():
                            k = gr.Slider(1, 8, value=3, step=1, label="Top-k passages")
                            threshold = gr.Slider(0.0, 1.0, value=0.3, step=0.01,
                                                  label="Relevance threshold (cosine)")
                        with gr.Accordion("Model", open=False):
                            kind = gr.Radio([LOCAL, REMOTE], value=LOCAL, label="Generate with")
                            model = gr.Dropdown(_chat_models(), value=default_model, label="Local model")
                            base_url = gr.Textbox(label="Base URL", value=settings.openai.base_url,
                                                  placeholder="http://localhost:11434/v1")
                            api_key = gr.Textbox(label="API key (kept in your session only)", type="password")
                            remote_model = gr.Textbox(label="Server model", value=settings.openai.model)
                            max_new = gr.Slider(16, 512, value=160, step=16, label="Max new tokens")
                        gr.Markdown("#### Sources")
                        sources = gr.HTML(_sources_html(None, ""), elem_id="rag-sources")
            # ---------------------------------------------------------------- compare
            with gr.Tab("3 · Compare", id="rag-compare"):
                gr.Markdown("One question, four ways: no retrieval, BM25, dense and hybrid (with the rerank "
                            "option of the Chat tab), each with the passages it retrieved.")
                with gr.Row():
                    cmp_q = gr.Textbox(label="Question", value=EXAMPLES[0], scale=4, elem_id="rag-cmp-q")
                    cmp_btn = gr.Button("Compare", variant="primary", scale=1, elem_id="rag-cmp-btn")
                with gr.Row(equal_height=False):
                    cmp_cells = [gr.HTML(elem_id=f"rag-cmp-{i}") for i in range(4)]
            # ---------------------------------------------------------------- evaluate
            with gr.Tab("4 · Evaluate", id="rag-eval"):
                gr.Markdown("A labelled set of questions and the passages that answer them (pre-filled for the "
                            "built-in corpus; edit or add rows for your own documents; separate several "
                            "passages with `||`). Each retriever is scored with hit@1, hit@k, MRR, nDCG@10 "
                            "and MAP (book §8.2.3).")
                eval_rows = gr.Dataframe(value=_eval_rows(), headers=["question", "relevant passage"],
                                         interactive=True, wrap=True, label="Labelled set", max_height=300,
                                         column_widths=["45%", "55%"], elem_id="rag-eval-set")
                with gr.Row():
                    eval_k = gr.Slider(1, 10, value=3, step=1, label="k for hit@k")
                    eval_btn = gr.Button("Score the retrievers", variant="primary", elem_id="rag-eval-btn")
                eval_note = gr.HTML()
                eval_table = gr.Dataframe(label="Scores (mean over questions)", interactive=False,
                                          elem_id="rag-eval-table")
                eval_detail = gr.Dataframe(label="Rank of the first relevant chunk per question",
                                           interactive=False, wrap=True)

        index_outputs = [state, status, stats, doc_pick, chunk_table]
        builtin_btn.click(load_builtin, [strategy, size, overlap, state], index_outputs, api_name="rag_load_builtin",
                          concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        index_btn.click(index_files, [files, strategy, size, overlap, state], index_outputs, api_name="rag_index",
                        concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        clear_btn.click(clear_documents, [state], index_outputs + [chatbot, sources, prompt_box],
                        api_name="rag_clear")
        doc_pick.change(browse_chunks, [state, doc_pick, needle], chunk_table, api_name="rag_chunks")
        needle.submit(browse_chunks, [state, doc_pick, needle], chunk_table, api_visibility="private")
        gen_inputs = [kind, model, base_url, api_key, remote_model, max_new]
        question.submit(ask, [question, chatbot, state, mode, rerank, k, threshold, *gen_inputs],
                        [chatbot, sources, prompt_box, state, question], api_name="rag_ask",
                        concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        clear_chat.click(lambda: ([], _sources_html(None, ""), ""), None, [chatbot, sources, prompt_box],
                         api_visibility="private", queue=False)
        cmp_btn.click(compare, [cmp_q, state, rerank, k, threshold, *gen_inputs], cmp_cells, api_name="rag_compare",
                      concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        cmp_q.submit(compare, [cmp_q, state, rerank, k, threshold, *gen_inputs], cmp_cells,
                     api_visibility="private", concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        eval_btn.click(evaluate, [eval_rows, eval_k, state, rerank], [eval_table, eval_detail, eval_note],
                       api_name="rag_evaluate", concurrency_id=HEAVY, concurrency_limit=heavy_limit())
    return demo


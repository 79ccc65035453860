"""RAG Chat (book ch. 8): chat with your documents, with every retrieval step visible and cited.

Layout and wiring only: the handlers are in :mod:`apps.rag.events`, the HTML in
:mod:`apps.rag.views`, the logic in ``core.rag``.
"""
from __future__ import annotations

import gradio as gr

from apps.common import app_title, esc
from apps.common.backend import backend_picker, model_dropdown
from apps.common.jobs import job_on
from apps.common.labsession import offer_trained_embedder
from apps.common.rooms import room_panel, wire_load
from apps.rag import MANIFEST, takehome_row, views
from apps.rag import embedder as rag_embedder
from apps.rag import events as ev
from apps.rag import rooms

SLUG = "rag"
CSS = MANIFEST.css
MODE_CHOICES = [("No retrieval", "none"), ("BM25 (keywords)", "bm25"), ("Dense (embeddings)", "dense"),
                ("Hybrid (RRF, k=60)", "hybrid")]
STYLE_CHOICES = [("Generative (the model writes, cites [n])", ev.GENERATIVE),
                 ("Extractive (quote the best passages)", ev.EXTRACTIVE)]
#: Defaults chosen by the retrieval evaluation in docs/BENCHMARKS.md (two corpora, one book-length).
#: 100-token chunks (overlap 20) + hybrid: mean MRR 0.80 / 0.35 (built-in / Hamlet) against 0.72 / 0.04 for the
#: former 2-sentence chunks; 400-token chunks score higher but exceed the prompt's 1,200 characters per passage.
DEFAULT_STRATEGY, DEFAULT_SIZE, DEFAULT_OVERLAP, DEFAULT_MODE = "tokens", 100, 20, "hybrid"


def startup() -> None:
    """Before serving: remove temp folders of index builds killed with a previous server, and expire
    documents no session has used for a day (manifest hook ``apps.rag.app:startup``)."""
    from core.rag.sessions import sweep
    from core.rag.store import IndexStore

    store = IndexStore()
    store.clean_stale_tmp()
    sweep(store)


def _model_note(offline: bool) -> str:
    if offline:
        return ("Offline the answers come from SmolLM2-135M, a tiny model that often gets facts wrong and rarely "
                "writes [n] itself: trust the sources panel (or the extractive style), not the answer. On the Hub "
                "the default is the book's Phi-3-mini.")
    return "Answers come from the model chosen under 'Model'; check them against the sources."


def build() -> gr.Blocks:
    from core.rag.chunking import STRATEGY_DEFAULTS, STRATEGY_LABELS
    from core.rag.models import reranker_status
    from core.settings import get_settings

    settings = get_settings()
    rerank_ok, rerank_note = reranker_status()
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        rp = room_panel(SLUG, "a shared document collection you upload once; participants ask questions about it "
                              "(and may add private files for their own session).")
        room, room_key = rp.room, rp.key
        state = gr.State(None, delete_callback=ev.release_session)
        with gr.Tabs(elem_id="rag-tabs"):
            # ---------------------------------------------------------------- documents
            with gr.Tab("1 · Documents", id="rag-docs"):
                with gr.Row():
                    with gr.Column(scale=3):
                        files = gr.File(label="Upload PDF, TXT or Markdown (indexed as soon as they arrive)",
                                        file_count="multiple", file_types=[".pdf", ".txt", ".md", ".markdown"],
                                        elem_id="rag-files", height=170)
                        with gr.Row():
                            builtin_btn = gr.Button("Use the built-in corpus", variant="primary",
                                                    elem_id="rag-builtin")
                            index_btn = gr.Button("Re-chunk with these settings", elem_id="rag-index")
                            clear_btn = gr.Button("Clear my documents", variant="stop", elem_id="rag-clear")
                        with gr.Row():
                            docs_job = gr.HTML(elem_id="rag-docs-job")
                            docs_stop = gr.Button("Stop", size="sm", scale=0, min_width=80, elem_id="rag-docs-stop")
                        gr.Markdown(
                            f"Limits: {settings.limits.upload_mb} MB per file, {settings.limits.pdf_pages} PDF "
                            "pages. Scanned PDFs need OCR, which is not supported. Indexes are kept on the "
                            "server, keyed by content hash, while a session uses them; clearing removes "
                            "your documents from your session only.", elem_classes="lab-note")
                    with gr.Column(scale=2):
                        strategy = gr.Radio([(v, k) for k, v in STRATEGY_LABELS.items()], value=DEFAULT_STRATEGY,
                                            label="Chunking", elem_id="rag-strategy")
                        with gr.Row():
                            size = gr.Number(value=DEFAULT_SIZE, minimum=1, maximum=2048, precision=0,
                                             label="Chunk size (units)", elem_id="rag-size")
                            overlap = gr.Number(value=DEFAULT_OVERLAP, minimum=0, maximum=2047, precision=0,
                                                label="Overlap (units)", elem_id="rag-overlap")
                        embed_pick = model_dropdown(rag_embedder.base_offer(), label="Dense embedder",
                                                    elem_id="rag-embedder")
                        gr.Markdown("Default: 100 tokens (words and punctuation) with 20 overlap, the best of seven "
                                    "chunkings in a retrieval evaluation on two corpora, one book-length "
                                    "(docs/BENCHMARKS.md). Sentence chunks of 1 reproduce the book's Interstellar demo; the book "
                                    "suggests 3–8 sentences or ~512 tokens with overlap for real documents.",
                                    elem_classes="lab-note")
                status = gr.HTML('<div class="rag-empty">No documents yet: upload files or use the built-in '
                                 'corpus.</div>', elem_classes="rag-status", elem_id="rag-status")
                stats = gr.Dataframe(headers=["document", "kind", "pages", "characters", "chunks", "from cache",
                                              "seconds"], label="Extraction and indexing", interactive=False,
                                     elem_id="rag-stats")
                with gr.Row():
                    doc_pick = gr.Dropdown([views.ALL_DOCS], value=views.ALL_DOCS, label="Browse chunks of",
                                           scale=1)
                    needle = gr.Textbox(label="Only chunks containing", placeholder="e.g. Kip Thorne", scale=2)
                chunk_table = gr.Dataframe(headers=["#", "document", "page", "chars", "text"], wrap=True,
                                           interactive=False, label="Chunk browser", max_height=420,
                                           column_widths=["6%", "16%", "6%", "7%", "65%"], elem_id="rag-chunks")
            # ---------------------------------------------------------------- chat
            with gr.Tab("2 · Chat", id="rag-chat"):
                with gr.Row(elem_classes="rag-chat-row"):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(label="Answers with citations", height=440, elem_id="rag-chatbot",
                                             buttons=["copy"])
                        question = gr.Textbox(label="Question", placeholder="Ask about your documents…",
                                              elem_id="rag-question", submit_btn="Ask")
                        examples = gr.Dataset(components=[question], samples=[[q] for q in ev.EXAMPLES],
                                              label="Try", elem_id="rag-try")
                        style = gr.Radio(STYLE_CHOICES, value=ev.GENERATIVE, label="Answer style",
                                         elem_id="rag-style")
                        with gr.Row():
                            chat_job = gr.HTML(elem_id="rag-chat-job")
                            chat_stop = gr.Button("Stop", size="sm", scale=0, min_width=80, elem_id="rag-chat-stop")
                            clear_chat = gr.Button("Clear chat", size="sm", scale=0, min_width=120)
                        gr.HTML(f'<div class="lab-note">{esc(_model_note(settings.offline))}</div>')
                        with gr.Accordion("Exact prompt sent to the model", open=False, elem_id="rag-prompt-acc"):
                            prompt_box = gr.Code(label="prompt", language=None, lines=14, max_lines=40,
                                                 wrap_lines=True, elem_id="rag-prompt")
                    with gr.Column(scale=2, min_width=320):
                        mode = gr.Radio(MODE_CHOICES, value=DEFAULT_MODE, label="Retrieval", elem_id="rag-mode")
                        rerank = gr.Checkbox(False, label="Rerank the first stage with a cross-encoder",
                                             interactive=rerank_ok, elem_id="rag-rerank")
                        gr.HTML(f'<div class="lab-note">{esc(rerank_note)}</div>')
                        with gr.Row():
                            k = gr.Slider(1, 8, value=3, step=1, label="Top-k passages")
                            threshold = gr.Slider(0.0, 1.0, value=0.3, step=0.01,
                                                  label="Relevance threshold (cosine)")
                        with gr.Accordion("Model", open=False):
                            picker = backend_picker(SLUG, label="Generate with")
                            max_new = gr.Slider(16, 512, value=160, step=16, label="Max new tokens")
                        gr.Markdown("#### Sources")
                        sources = gr.HTML(views.EMPTY_SOURCES, elem_id="rag-sources")
            # ---------------------------------------------------------------- compare
            with gr.Tab("3 · Compare", id="rag-compare"):
                gr.Markdown("One question, four ways: no retrieval, BM25, dense and hybrid (with the rerank "
                            "option of the Chat tab), each with the passages it retrieved.")
                with gr.Row():
                    cmp_q = gr.Textbox(label="Question", value=ev.EXAMPLES[0], scale=4, elem_id="rag-cmp-q")
                    cmp_btn = gr.Button("Compare", variant="primary", scale=1, elem_id="rag-cmp-btn")
                    cmp_stop = gr.Button("Stop", scale=0, min_width=80, elem_id="rag-cmp-stop")
                cmp_job = gr.HTML(elem_id="rag-cmp-job")
                with gr.Row(equal_height=False, elem_classes="rag-cmp-row"):
                    cmp_cells = [gr.HTML(elem_id=f"rag-cmp-{i}") for i in range(4)]
            # ---------------------------------------------------------------- evaluate
            with gr.Tab("4 · Evaluate", id="rag-eval"):
                gr.Markdown("A labelled set of questions and the passages that answer them (pre-filled for the "
                            "built-in corpus; edit or add rows for your own documents; separate several "
                            "passages with `||`). Each retriever is scored with hit@1, hit@k, MRR, nDCG@10 "
                            "and MAP (book §8.2.3).")
                eval_rows = gr.Dataframe(value=ev.eval_rows(), headers=["question", "relevant passage"],
                                         interactive=True, wrap=True, label="Labelled set", max_height=300,
                                         column_widths=["45%", "55%"], elem_id="rag-eval-set")
                with gr.Row():
                    eval_k = gr.Slider(1, 10, value=3, step=1, label="k for hit@k")
                    eval_btn = gr.Button("Score the retrievers", variant="primary", elem_id="rag-eval-btn")
                    eval_stop = gr.Button("Stop", scale=0, min_width=80, elem_id="rag-eval-stop")
                eval_job = gr.HTML(elem_id="rag-eval-job")
                eval_note = gr.HTML()
                eval_table = gr.Dataframe(label="Scores (mean over questions)", interactive=False,
                                          elem_id="rag-eval-table")
                eval_detail = gr.Dataframe(label="Rank of the first relevant chunk per question",
                                           interactive=False, wrap=True)

        index_outputs = [state, status, stats, doc_pick, chunk_table, examples]
        docs_job_kw = {"slug": SLUG, "status": docs_job, "stop": docs_stop, "expect_s": 15.0}
        wire_load(demo, SLUG, rp, rooms.what).then(rooms.room_documents, [state, room, room_key], index_outputs,
                                                  api_visibility="private")
        job_on(builtin_btn.click, ev.load_builtin, [strategy, size, overlap, state, room, room_key], index_outputs,
               kind="index", api_name="rag_load_builtin", **docs_job_kw)
        job_on([index_btn.click, files.upload], ev.index_files, [files, strategy, size, overlap, state, room, room_key],
               index_outputs, kind="index", api_name="rag_index", **docs_job_kw)
        offer_trained_embedder(demo, SLUG, embed_pick, rag_embedder.base_choices)  # + the Zoo's trained one
        job_on(embed_pick.input, rag_embedder.choose, [embed_pick, strategy, size, overlap, state, room, room_key],
               index_outputs, kind="index", api_name="rag_embedder", **docs_job_kw)
        strategy.input(lambda s: STRATEGY_DEFAULTS.get(s, (DEFAULT_SIZE, DEFAULT_OVERLAP)), strategy, [size, overlap],
                       queue=False, api_visibility="private")  # sizes count sentences, paragraphs or tokens
        clear_btn.click(ev.clear_documents, [state, room, room_key], index_outputs + [chatbot, sources, prompt_box],
                        api_name="rag_clear")
        gr.on([doc_pick.change, needle.submit], ev.browse_chunks, [state, doc_pick, needle, room], chunk_table,
              api_name="rag_chunks")
        examples.click(lambda s: s[0], examples, question, api_visibility="private", queue=False)
        kind, model, base_url, api_key, remote_model = (picker.kind, picker.local_model, picker.base_url,
                                                        picker.api_key, picker.server_model)
        gen_inputs = [kind, model, base_url, api_key, remote_model, max_new]  # the API's order (key before model)
        job_on(question.submit, ev.ask, [question, chatbot, state, mode, rerank, k, threshold, *gen_inputs, style, room],
               [chatbot, sources, prompt_box, state, question], slug=SLUG, kind="answer", status=chat_job,
               stop=chat_stop, api_name="rag_ask", show_done=False)
        clear_chat.click(lambda: ([], views.EMPTY_SOURCES, ""), None, [chatbot, sources, prompt_box],
                         api_visibility="private", queue=False)
        job_on([cmp_btn.click, cmp_q.submit], ev.compare, [cmp_q, state, rerank, k, threshold, *gen_inputs, room],
               cmp_cells, slug=SLUG, kind="compare", status=cmp_job, stop=cmp_stop, expect_s=30.0,
               api_name="rag_compare")
        job_on(eval_btn.click, ev.evaluate, [eval_rows, eval_k, state, rerank, room], [eval_table, eval_detail, eval_note],
               slug=SLUG, kind="evaluate", status=eval_job, stop=eval_stop, api_name="rag_evaluate")
        takehome_row.build(demo, state, [question, mode, rerank, k, threshold, strategy, size, overlap, style, kind,
                                         model, base_url, remote_model, max_new], index_outputs, sources)
    return demo

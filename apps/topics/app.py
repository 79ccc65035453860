"""Topic Explorer (book ch. 5): upload a CSV, get topics you can see and steer with BERTopic.

Layout and wiring only: handlers in :mod:`.handlers`, HTML in :mod:`.views`, the pipeline in
:mod:`core.topics`. Run alone with ``python -m apps.topics``.
"""
from __future__ import annotations


import gradio as gr

from apps.common import app_title
from apps.common.backend import backend_picker, model_dropdown
from apps.common.jobs import job_on
from apps.common.labsession import offer_trained_embedder
from apps.common.rooms import room_panel, wire_load
from apps.topics import MANIFEST
from apps.topics import handlers as h
from apps.topics import takehome_row
from apps.topics import rooms
from apps.topics.views import EMPTY_SUMMARY
from core import catalogue

SLUG = "topics"
CSS = MANIFEST.css
DEFAULT_SOURCE = "sample"
DEFAULT_EMBED = "embed-gte-small"  # the book's; offline all-MiniLM-L6-v2 runs under this name


def startup() -> None:
    """Once before serving: compile UMAP/HDBSCAN's numba code in the background (~8 s), so the
    first Find topics does not pay for it."""
    from core.settings import get_settings

    if get_settings().topics_warmup:
        from core.topics.warmup import warm_in_background

        warm_in_background()


def _source_choices() -> list[tuple[str, str]]:
    from core.topics.data import BUILTINS

    order = [DEFAULT_SOURCE] + [k for k in BUILTINS if k != DEFAULT_SOURCE]
    return [(BUILTINS[k], k) for k in order] + [("Upload a CSV file", "upload")]


def _embed_offer() -> catalogue.Offer:
    """The embedding models: every one in hub mode; offline the one that runs, as the default's name."""
    return catalogue.offer("sentence-embedding", DEFAULT_EMBED)


def _embed_choices() -> list[tuple[str, str]]:
    return _embed_offer().choices


def _on_source(source: str, file: object = None, room: str = "") -> tuple:
    """A built-in corpus, the uploaded file, the room's corpus, or (Upload chosen, no file yet) an empty table."""
    if source == rooms.ROOM:
        return rooms.load_room(room)
    if source == "upload" and not file:
        return h.upload_prompt()
    return h.load_source(source, file)


def build() -> gr.Blocks:
    """The Topic Explorer page."""
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        rp = room_panel(SLUG, "a shared corpus (a built-in one or a CSV you upload once); participants run "
                              "their own topic fits on it.")
        table_state = gr.State(None)
        run_state = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=330, elem_classes="topics-side"):
                gr.HTML('<div class="topics-step">1 · Documents</div>')
                source = gr.Radio(_source_choices(), value=DEFAULT_SOURCE, label="Corpus", elem_id="topics-source")
                upload = gr.File(label="CSV file (header row; any delimiter or encoding)",
                                 file_types=[".csv", ".tsv", ".txt"], visible=False, elem_id="topics-upload")
                with gr.Row():  # right under the corpus: a phone sees it on its first screen
                    run_btn = gr.Button("Find topics", variant="primary", elem_id="topics-run", scale=3)
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="topics-stop", scale=1, min_width=70)
                run_status = gr.HTML(elem_id="topics-status")
                with gr.Row(visible=False) as share_row:
                    share_btn = gr.Button("Share this corpus with the room", size="sm", elem_id="topics-room-share")
                share_note = gr.HTML(elem_id="topics-room-note")
                text_col = gr.Dropdown([], label="Text column", elem_id="topics-text-col")
                with gr.Row():
                    time_col = gr.Dropdown([h.NONE], value=h.NONE, label="Timestamp column (optional)")
                    class_col = gr.Dropdown([h.NONE], value=h.NONE, label="Class column (optional)")
                preview_out = gr.HTML()
                gr.HTML('<div class="topics-step">2 · Pipeline</div>')
                embed = model_dropdown(_embed_offer(), label="Embedding model")
                with gr.Accordion("HDBSCAN (cluster)", open=True):
                    min_cluster_size = gr.Slider(2, 200, value=15, step=1, label="min_cluster_size",
                                                 info="lower → more, smaller topics")
                    min_samples = gr.Slider(0, 100, value=0, step=1, label="min_samples (0 = same as min_cluster_size)")
                    selection = gr.Radio(["eom", "leaf"], value="eom", label="cluster_selection_method")
                with gr.Accordion("UMAP (reduce)", open=False):
                    n_neighbors = gr.Slider(2, 100, value=15, step=1, label="n_neighbors")
                    n_components = gr.Slider(2, 10, value=5, step=1, label="n_components",
                                             info="5–10 keeps global structure (book)")
                    min_dist = gr.Slider(0.0, 0.99, value=0.0, step=0.01, label="min_dist", info="0 = tighter clusters")
                    metric = gr.Dropdown(["cosine", "euclidean", "manhattan", "correlation"], value="cosine",
                                         label="metric")
                    seed = gr.Number(42, precision=0, label="random_state (seed)")
                with gr.Accordion("Keywords and representation", open=False):
                    stop_words = gr.Radio([("English stop words removed", "english"), ("keep all words", "none")],
                                          value="english", label="CountVectorizer stop words")
                    ngram_max = gr.Slider(1, 3, value=1, step=1, label="n-gram range (1, n)")
                    min_df = gr.Slider(1, 20, value=1, step=1, label="min_df (topics a word must occur in)")
                    representation = gr.Radio([("c-TF-IDF", "c-tf-idf"), ("KeyBERTInspired", "keybert"),
                                               ("MaximalMarginalRelevance", "mmr")], value="c-tf-idf",
                                              label="Representation")
                    diversity = gr.Slider(0.0, 1.0, value=0.3, step=0.05, label="MMR diversity")
            with gr.Column(scale=3, min_width=340):
                summary = gr.HTML(EMPTY_SUMMARY, elem_id="topics-summary")
                with gr.Tabs():
                    with gr.Tab("Map"):
                        doc_map = gr.Plot(label="Documents (2-D UMAP) — hover for the text", elem_id="topics-map")
                    with gr.Tab("Topics"):
                        topic_table = gr.Dataframe(label="Topics (−1 = outliers)", wrap=True, max_height=560,
                                                   interactive=False, elem_id="topics-table")
                        bars = gr.Plot(label="Top words per topic")
                    with gr.Tab("Charts"):
                        heat = gr.Plot(label="Topic similarity")
                        tree = gr.Plot(label="Hierarchy")
                        over_time = gr.Plot(label="Topics over time")
                        per_class = gr.Plot(label="Topics per class")
                gr.HTML('<div class="topics-step">3 · Steer</div>')
                tool_status = gr.HTML()
                with gr.Accordion("Search topics", open=False, elem_id="topics-search"):
                    with gr.Row():
                        query = gr.Textbox(label="Find topics like…", placeholder="e.g. election campaign", scale=4)
                        search_btn = gr.Button("Search", scale=1)
                    found = gr.Dataframe(label="Most similar topics", interactive=False)
                with gr.Accordion("Outliers", open=False, elem_id="topics-outliers"):
                    gr.Markdown("Documents HDBSCAN could not place are topic **−1**. Reassign them to their "
                                "nearest topic (BERTopic `reduce_outliers`), with a threshold or a target share.")
                    with gr.Row():
                        strategy = gr.Radio(["c-tf-idf", "embeddings", "distributions"], value="c-tf-idf",
                                            label="Strategy")
                        threshold = gr.Slider(0.0, 1.0, value=0.1, step=0.01, label="Threshold (similarity)")
                    with gr.Row():
                        use_target = gr.Checkbox(True, label="Aim for a target outlier share instead")
                        target_pct = gr.Slider(0, 50, value=10, step=1, label="Target outlier %")
                    outlier_btn = gr.Button("Reassign outliers")
                    outlier_out = gr.HTML()
                with gr.Accordion("Stability", open=False, elem_id="topics-stability"):
                    gr.Markdown("Re-cluster the same embeddings with three UMAP seeds and compare the "
                                "clusterings with the adjusted Rand index.")
                    stability_btn = gr.Button("Check stability (3 seeds)")
                    stability_out = gr.HTML()
                with gr.Accordion("Edit & label", open=False, elem_id="topics-edit"):
                    with gr.Row():
                        rename_id = gr.Number(0, precision=0, label="Topic id")
                        rename_text = gr.Textbox(label="New label", scale=3)
                        rename_btn = gr.Button("Rename")
                    with gr.Row():
                        merge_ids = gr.Textbox(label="Merge topics (ids, e.g. 2, 5)", scale=4)
                        merge_btn = gr.Button("Merge")
                    gr.Markdown("**LLM labels** — a generation model names each topic from its keywords "
                                "and representative documents (the book's prompt).")
                    labeller = backend_picker(SLUG, local_default="chat-qwen2.5-0.5b")  # SmolLM2-135M offline
                    max_label_topics = gr.Slider(1, 40, value=10, step=1, label="Topics to label")
                    label_btn = gr.Button("Label topics with the LLM")
                with gr.Accordion("Export", open=False, elem_id="topics-export"):
                    export_btn = gr.Button("Export topic table, document→topic CSV and the model")
                    exports = gr.File(label="Downloads", file_count="multiple", interactive=False)

        main_outputs = [summary, doc_map, topic_table, bars]
        extra_outputs = [heat, tree, over_time, per_class]
        table_outputs = [table_state, text_col, time_col, class_col, preview_out]
        source.change(lambda s: gr.File(visible=s == "upload"), source, upload, queue=False,
                      api_visibility="private")
        gr.on([source.change, upload.upload], _on_source, [source, upload, rp.room], table_outputs,
              api_name="topics_load")
        gr.on([dd.input for dd in (text_col, time_col, class_col)], h.preview_columns,
              [table_state, text_col, time_col, class_col], preview_out, api_visibility="private")
        room_load = wire_load(demo, SLUG, rp, rooms.what).then(
            lambda r, k: rooms.source_update(r, k, _source_choices()), [rp.room, rp.key], [source, share_row],
            api_visibility="private", queue=False).then(rooms.page_table, [rp.room, rp.key], table_outputs,
                                                       api_name="topics_room_load")
        share_btn.click(rooms.share, [source, upload, rp.room, rp.key], [share_note, source],
                        api_name="topics_room_share")
        offer_trained_embedder(demo, SLUG, embed, _embed_choices)  # + the Classifier Zoo's trained embedder

        run_inputs = [table_state, text_col, time_col, class_col, embed, n_neighbors, n_components, min_dist, metric,
                      seed, min_cluster_size, min_samples, selection, stop_words, ngram_max, min_df,
                      representation, diversity]
        job_on(run_btn.click, h.run_topics, run_inputs, [run_state, *main_outputs], slug=SLUG, kind="fit",
               status=run_status, stop=stop_btn, expect_s=60.0, api_name="topics_run",
               ).success(h.extra_views, run_state, extra_outputs, api_name="topics_views")
        run_btn.click(h.check_run, table_state, run_status, queue=False, api_visibility="private")
        gr.on([search_btn.click, query.submit], h.search_topics, [run_state, query], found, api_name="topics_search")
        job_on(outlier_btn.click, h.outliers, [run_state, strategy, threshold, use_target, target_pct],
               [outlier_out, run_state, *main_outputs], slug=SLUG, kind="outliers", status=tool_status,
               api_name="topics_outliers").success(h.extra_views, run_state, extra_outputs, api_visibility="private")
        job_on(stability_btn.click, h.check_stability, run_state, stability_out, slug=SLUG, kind="stability",
               status=tool_status, api_name="topics_stability")
        rename_btn.click(h.rename_topic, [run_state, rename_id, rename_text], [run_state, *main_outputs],
                         api_name="topics_rename")
        merge_btn.click(h.merge_topics, [run_state, merge_ids], [run_state, *main_outputs], api_name="topics_merge"
                        ).success(h.extra_views, run_state, extra_outputs, api_visibility="private")
        job_on(label_btn.click, h.label_with_llm, [run_state, labeller.kind, labeller.base_url, labeller.server_model,
                                                   labeller.api_key, max_label_topics, labeller.local_model],
               [run_state, *main_outputs], slug=SLUG, kind="labels", status=tool_status, api_name="topics_label")
        export_btn.click(h.export_all, run_state, exports, api_name="topics_export")
        takehome_row.build(demo, room_load, source, upload, embed, run_inputs[5:], run_inputs[1:4], table_outputs,
                           run_state)  # link / download / notebook; a link restores after the corpus load
    return demo

"""Topic Explorer core (book ch. 5): corpora, the BERTopic pipeline by stage, and views.

:mod:`~core.topics.data` corpora and CSV checks · :mod:`~core.topics.config` settings and the
progress/stop hooks · :mod:`~core.topics.embed` document and word embeddings (cached) ·
:mod:`~core.topics.reduce` UMAP (cached) · :mod:`~core.topics.cluster` HDBSCAN ·
:mod:`~core.topics.represent` c-TF-IDF, KeyBERTInspired, MMR · :mod:`~core.topics.pipeline`
fit end to end · :mod:`~core.topics.runs` a fitted run · :mod:`~core.topics.outliers` ·
:mod:`~core.topics.stability` · :mod:`~core.topics.edit` search, merge, rename ·
:mod:`~core.topics.labels` LLM labels · :mod:`~core.topics.export` · :mod:`~core.topics.warmup`
numba · :mod:`~core.topics.views` figures and HTML. Nothing heavy is imported here.
"""

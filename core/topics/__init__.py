"""Topic Explorer core (book ch. 5): corpora, the BERTopic pipeline with caching, and views.

Submodules: :mod:`core.topics.data` (corpora, CSV checks), :mod:`core.topics.model` (pipeline,
outliers, stability, labels, exports), :mod:`core.topics.views` (plotly figures, HTML summaries).
Nothing heavy is imported here.
"""

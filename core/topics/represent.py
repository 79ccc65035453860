"""How topics are described: CountVectorizer → c-TF-IDF, optionally KeyBERTInspired or
MaximalMarginalRelevance (their candidate words are embedded through the word cache)."""
from __future__ import annotations

from typing import Any

from core.topics.config import TopicConfig, check_stop

#: words scikit-learn's English list keeps that only fill topic labels ("said · president")
FILLER_WORDS = frozenset({"said", "says", "say", "saying", "told", "mr", "mrs", "ms", "would", "could",
                          "also", "just", "like", "according", "including", "did", "does", "don"})


def stop_words(config: TopicConfig) -> list[str] | None:
    """scikit-learn's English stop words plus :data:`FILLER_WORDS`, or None ('keep all words')."""
    if config.stop_words != "english":
        return None
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | FILLER_WORDS)


def make_vectorizer(config: TopicConfig) -> Any:
    """The c-TF-IDF vocabulary: English stop words removed by default (the book's
    ``CountVectorizer(stop_words="english")``, plus a few reporting fillers)."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words=stop_words(config), ngram_range=(1, config.ngram_max), min_df=config.min_df)


def make_representation(config: TopicConfig) -> Any:
    """``None`` (plain c-TF-IDF), ``KeyBERTInspired`` or a batched, cached MMR."""
    if config.representation == "keybert":
        from bertopic.representation import KeyBERTInspired

        return KeyBERTInspired(top_n_words=config.top_n_words, random_state=config.seed)
    if config.representation == "mmr":
        from bertopic.representation import MaximalMarginalRelevance

        class BatchedMMR(MaximalMarginalRelevance):
            """BERTopic's MMR, with every topic's candidate words embedded in one batched call first
            (then each per-topic lookup is a cache hit)."""

            def extract_topics(self, topic_model: Any, documents: Any, c_tf_idf: Any, topics: Any) -> Any:
                check_stop()
                backend = topic_model.embedding_model
                if hasattr(backend, "model_name"):
                    from core.topics.embed import encode_documents

                    texts: list[str] = []
                    for words in topics.values():
                        ws = [w for w, _ in words]
                        texts += ws + [" ".join(ws)]
                    encode_documents(backend.model_name, texts)  # one batch; the lookups below hit the cache
                check_stop()
                return super().extract_topics(topic_model, documents, c_tf_idf, topics)

        return BatchedMMR(diversity=config.diversity, top_n_words=config.top_n_words)
    return None

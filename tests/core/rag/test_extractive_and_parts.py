"""Issue 18: the extractive answer style, compound questions ("not found" for the part under the
threshold), "Try" questions from the loaded documents, and the chunking × retriever evaluation."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import LabError
from core.rag.answer import NOT_FOUND, answer_stream
from core.rag.chunking import Chunk, ChunkConfig, Document
from core.rag.documents import EvalItem
from core.rag.evaluation import best_config, evaluate_configs
from core.rag.extractive import best_sentences, extract
from core.rag.questions import question_parts, suggest_questions
from core.rag.search import Collection, Hit

VOCAB = ["okapi", "congo", "leaves", "hubble", "mirror", "launch", "moon", "mass"]


def bag(texts: list[str]) -> np.ndarray:
    """A tiny deterministic 'embedding': word counts over VOCAB (+1 bias), L2-normalised."""
    out = []
    for t in texts:
        t = t.lower()
        v = np.array([t.count(w) for w in VOCAB] + [0.05], dtype=np.float32)
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


def collection(texts: list[str]) -> Collection:
    chunks = [Chunk(i, "notes.txt", None, t, 0, len(t)) for i, t in enumerate(texts)]
    return Collection(chunks, bag(texts), "bag", lambda q: bag([q])[0])


TEXTS = ["The okapi lives in the Congo rainforest. It is shy.",
         "Okapis eat leaves and fruit. They also eat fungi.",
         "Hubble's mirror was ground to the wrong shape. A repair mission fixed it after launch."]


def test_question_parts() -> None:
    assert question_parts("Where does the okapi live and what went wrong with Hubble's mirror?") == [
        "Where does the okapi live", "what went wrong with Hubble's mirror"]
    assert question_parts("What do okapis eat?") == ["What do okapis eat"]
    assert question_parts("Salt and pepper?") == ["Salt and pepper"]  # 'and' not before a question word
    assert question_parts("Who won? Why") == ["Who won Why"]  # a two-word tail stays with its part
    assert question_parts("") == []


def test_best_sentences_quotes_the_closest_in_order() -> None:
    text = " ".join(["Filler sentence number %d is here." % i for i in range(20)]) + " The okapi lives in the Congo."
    quoted = best_sentences("Where does the okapi live? Congo", text, bag, limit=60)
    assert quoted.startswith("…") and "The okapi lives in the Congo." in quoted and len(quoted) < 120
    assert best_sentences("q", "Short text.", None) == "Short text."
    hits = [Hit(Chunk(i, "d", 3, t, 0, len(t)), i + 1, 1.0, "dense", 0.9) for i, t in enumerate(TEXTS)]
    assert [n for n, _ in extract("okapi", hits, None, max_passages=2)] == [1, 2]


def test_extractive_answer_quotes_sources_without_a_model() -> None:
    coll = collection(TEXTS)
    *_, ans = answer_stream("What do okapis eat?", coll, None, mode="dense", k=2, threshold=0.2,
                            style="extractive", embed=bag)
    assert ans.done and ans.style == "extractive" and ans.prompt == "" and ans.messages == []
    assert ans.segments[0].cites == (1,) and "notes.txt" in ans.segments[0].text
    assert "leaves" in ans.text and all(c.explicit for c in ans.citations)
    assert {c.n for c in ans.citations} == {1, 2}
    with pytest.raises(LabError, match="extractive"):
        list(answer_stream("Q?", coll, None, mode="none", style="extractive"))
    with pytest.raises(LabError, match="answer style"):
        list(answer_stream("Q?", coll, None, mode="dense", style="poetic"))


def test_compound_question_keeps_each_parts_passage_and_names_the_missing_part() -> None:
    coll = collection(TEXTS)
    *_, ans = answer_stream("Where does the okapi live in the Congo and what is the mass of the moon?", coll, None,
                            mode="dense", k=2, threshold=0.5, style="extractive", embed=bag)
    assert any("Congo" in h.chunk.text for h in ans.hits)
    assert ans.unanswered == ["what is the mass of the moon"]
    *_, ans = answer_stream("What is the mass of the moon?", coll, None, mode="dense", k=2, threshold=0.5,
                            style="extractive", embed=bag)
    assert ans.not_found and ans.text == NOT_FOUND and ans.unanswered == []


def test_suggest_questions_follow_the_documents() -> None:
    chunks = [Chunk(0, "field_guide.md", None, "# Okapi habitat\nThe Okapi lives with the Mbuti people, "
                    "and the Mbuti know the Okapi well.", 0, 10)]
    qs = suggest_questions(chunks)
    assert qs[0] == "What is field guide about?"
    assert "What does the document say about Okapi habitat?" in qs
    assert any("Mbuti" in q for q in qs) and suggest_questions([]) == []


def test_evaluate_configs_scores_chunkings_on_two_corpora(tmp_path) -> None:
    from core.rag.store import IndexStore

    long_text = "\n".join(["The okapi is shy", "and lives in the Congo."] + [f"line {i}" for i in range(40)])
    corpora = {
        "short": ([Document("a.txt", (" ".join(TEXTS),), "text")],
                  [EvalItem("What do okapis eat?", ("Okapis eat leaves",))]),
        "long": ([Document("b.txt", (long_text,), "text")],
                 [EvalItem("Where does the okapi live, Congo?", ("The okapi is shy and lives in the Congo",))]),
    }
    configs = [ChunkConfig("sentence", 1, 0), ChunkConfig("tokens", 40, 10)]
    rows = evaluate_configs(corpora, configs, retrievers=("bm25", "dense"), k=3, store=IndexStore(tmp_path),
                            encode_passages=bag, encode_query=lambda q: bag([q])[0], embedder="bag")
    assert len(rows) == 2 * 2 * 2
    by = {(r.corpus, r.config, r.retriever): r for r in rows}
    # one-line chunks cut the long corpus's passage in two: a miss, counted (not skipped)
    assert by[("long", "sentence-1-0", "bm25")].answerable == 0 and by[("long", "sentence-1-0", "bm25")].mrr == 0
    assert by[("long", "tokens-40-10", "bm25")].answerable == 1 and by[("long", "tokens-40-10", "bm25")].hit_at_k == 1
    assert best_config(rows)[0] == "tokens-40-10"

"""LLM topic labels through :mod:`core.generation` (the book's prompt)."""
from __future__ import annotations

import re
from typing import Any

from core.topics.config import Progress, check_stop, no_progress
from core.topics.runs import TopicRun

LABEL_PROMPT = """I have a topic that contains the following documents:
[DOCUMENTS]

The topic is described by the following keywords: '[KEYWORDS]'.

Based on the documents and keywords, what is this topic about? Answer with a short topic label of at most six words, nothing else."""


def clean_label(text: str) -> str:
    text = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    text = re.sub(r"^(topic( label)?|label)\s*[:\-]\s*", "", text, flags=re.I)
    text = text.strip(" \"'`*.#:")
    return text[:60]


def llm_labels(run: TopicRun, backend: Any, *, max_topics: int = 20, doc_chars: int = 200,
               progress: Progress = no_progress) -> dict[int, str]:
    """Ask a generation backend (local SmolLM2 or any OpenAI-compatible model) to name each topic."""
    from core.generation import SamplingParams

    reps = run.model.get_representative_docs() or {}
    ids = [t for t in sorted(set(run.topics)) if t != -1][:max_topics]
    params = SamplingParams(max_new_tokens=16, greedy=True)
    out: dict[int, str] = {}
    for i, t in enumerate(ids):
        check_stop()
        progress(i / max(1, len(ids)), f"Labelling topic {t} ({i + 1}/{len(ids)})")
        docs = "\n".join(f"- {d[:doc_chars]}" for d in (reps.get(t) or [])[:4])
        prompt = LABEL_PROMPT.replace("[DOCUMENTS]", docs).replace("[KEYWORDS]", ", ".join(run.words(t, 10)))
        label = clean_label(backend.generate([{"role": "user", "content": prompt}], params))
        if label:
            out[t] = label
    run.labels.update(out)
    run.apply_labels()
    return out

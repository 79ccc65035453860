"""The Captioner's result tables as rows (list of dicts; the app turns them into a DataFrame)."""
from __future__ import annotations

from typing import Any


def label_rows(result: Any) -> list[dict[str, Any]]:
    """One row per (image, label), best label first per image (``result``: a zero-shot result)."""
    score_name = "cosine" if result.method == "clip" else "proxy similarity"
    rows = []
    for i, name in enumerate(result.images):
        for label, prob in result.ranking(i):
            j = result.labels.index(label)
            row = {"image": name, "label": label, "prompt": result.prompts[j], "probability": round(prob, 4),
                   score_name: round(result.scores[i][j], 4)}
            if result.evidence:
                row["closest ImageNet class"] = result.evidence[i][j]
            rows.append(row)
    return rows


def caption_rows(result: Any) -> list[dict[str, Any]]:
    """One row per candidate caption, ranked per image (``result``: a :class:`CaptionResult`)."""
    return [{"image": item.name, "rank": r + 1, "caption": t, "score": round(s, 4)}
            for item in result.items for r, (t, s) in enumerate(item.candidates)]

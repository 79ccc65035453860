"""Training data for the lab's fine-tuning runs, each with a clear refusal when it is too small or
malformed.

* Embedder pairs (ch. 10): same-label (anchor, positive, negative) triplets from labelled texts (the
  built-in Rotten Tomatoes snippets or an uploaded CSV), or question → passage pairs from the RAG
  evaluation set (``assets/rag/eval.json``); a held-out part to measure hit@k before and after.
* Preference pairs (ch. 12): (prompt, chosen, rejected) from a room's votes
  (:func:`core.arena.export.dpo_records`), an uploaded JSONL, or the built-in pairs
  (``assets/training/preferences.json``); SFT examples are the chosen answers.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from core.errors import LabError
from core.settings import get_settings

ASSETS = Path(__file__).resolve().parents[2] / "assets"
PREFERENCES_FILE = ASSETS / "training" / "preferences.json"
RAG_EVAL_FILE = ASSETS / "rag" / "eval.json"
MIN_TRAIN_PAIRS = 8
MIN_EVAL = 4
MAX_CHARS = 2_000  # one text of a pair (longer ones are cut: the runs use short sequences anyway)


def cap_examples(n: int) -> int:
    """At most ``LLM_LAB_TRAIN_MAX_EXAMPLES`` training examples."""
    return max(0, min(int(n), get_settings().limits.train_max_examples))


def cap_steps(n: int) -> int:
    """Optimizer steps within ``1 .. LLM_LAB_TRAIN_MAX_STEPS``."""
    return max(1, min(int(n), get_settings().limits.train_max_steps))


# --------------------------------------------------------------------------------------------
# embedder pairs
# --------------------------------------------------------------------------------------------

@dataclass
class PairData:
    """Training triplets (negative may be "") and a held-out retrieval test.

    ``eval_queries[i]`` should retrieve, from ``corpus``, any text whose group is ``eval_groups[i]``
    (``corpus_groups`` gives each corpus text's group): for labelled data the group is the label,
    for question/passage pairs it is the passage itself.
    """

    name: str
    train: list[tuple[str, str, str]]
    eval_queries: list[str]
    eval_groups: list[str]
    corpus: list[str]
    corpus_groups: list[str]
    notes: list[str] = field(default_factory=list)


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())[:MAX_CHARS]


def labelled_pairs(texts: Sequence[str], labels: Sequence[str], *, name: str = "labelled texts",
                   n_train: int = 400, n_eval: int = 200, seed: int = 42) -> PairData:
    """Same-label triplets: (text, another text of its class, a text of another class). The held-out
    test asks, for each held-out text, whether its nearest held-out neighbours share its label."""
    rows = [(_clean(t), str(lab)) for t, lab in zip(texts, labels) if _clean(t) and str(lab).strip()]
    classes = sorted({lab for _, lab in rows})
    if len(classes) < 2:
        raise LabError("Contrastive pairs from labels need at least two classes (a positive shares the "
                       "anchor's label, a negative has another).")
    rng = random.Random(seed)
    rng.shuffle(rows)
    n_eval = min(n_eval, len(rows) // 3)
    held, rest = rows[:n_eval], rows[n_eval:]
    by_class: dict[str, list[str]] = {c: [t for t, lab in rest if lab == c] for c in classes}
    small = [c for c, items in by_class.items() if len(items) < 2]
    if small:
        raise LabError(f"Class {small[0]!r} has fewer than 2 training texts: a same-label pair needs two.")
    train = []
    for text, lab in rest[: cap_examples(n_train)]:
        positive = rng.choice([t for t in by_class[lab] if t != text] or by_class[lab])
        other = rng.choice([c for c in classes if c != lab])
        train.append((text, positive, rng.choice(by_class[other])))
    data = PairData(name, train, [t for t, _ in held], [lab for _, lab in held], [t for t, _ in held],
                    [lab for _, lab in held],
                    notes=[f"{len(train)} (anchor, same-label positive, other-label negative) triplets; "
                           f"{len(held)} held-out texts: hit@k = a top-k neighbour has the same label."])
    _check_sizes(data)
    return data


def builtin_pairs(n_train: int = 400, n_eval: int = 200, seed: int = 42) -> PairData:
    """Same-label triplets from the built-in Rotten Tomatoes snippets (sentiment: steer the embedder
    toward sentiment, book Fig. 10-3)."""
    from core.classifiers.data import rotten_tomatoes_rows

    rows = rotten_tomatoes_rows()
    return labelled_pairs([t for t, _ in rows], [c for _, c in rows], name="Rotten Tomatoes snippets (built-in)",
                          n_train=n_train, n_eval=n_eval, seed=seed)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def rag_pairs(eval_file: Path = RAG_EVAL_FILE, n_eval: int = 4, seed: int = 42) -> PairData:
    """(question, the sentence that holds its labelled passage) from the RAG evaluation set; the
    held-out questions must retrieve their sentence among every sentence of the built-in documents."""
    items = json.loads(eval_file.read_text(encoding="utf-8"))["items"]
    sentences = []
    for path in sorted(eval_file.parent.glob("*")):
        if path.suffix in (".md", ".txt"):
            sentences += _sentences(path.read_text(encoding="utf-8"))
    pairs = []
    for item in items:
        for passage in item.get("passages", [])[:1]:
            low = " ".join(passage.lower().split())
            hit = next((s for s in sentences if low in " ".join(s.lower().split())), None)
            if hit:
                pairs.append((_clean(item["question"]), _clean(hit)))
    rng = random.Random(seed)
    rng.shuffle(pairs)
    held, train = pairs[:n_eval], pairs[n_eval:]
    corpus = list(dict.fromkeys(_clean(s) for s in sentences))
    data = PairData("RAG evaluation questions (built-in documents)", [(q, p, "") for q, p in train],
                    [q for q, _ in held], [p for _, p in held], corpus, corpus,
                    notes=[f"{len(train)} (question, passage sentence) pairs; {len(held)} held-out questions "
                           f"search {len(corpus)} sentences of the built-in documents."])
    _check_sizes(data)
    return data


def _check_sizes(data: PairData) -> None:
    if len(data.train) < MIN_TRAIN_PAIRS:
        raise LabError(f"Only {len(data.train)} training pairs: contrastive fine-tuning needs at least "
                       f"{MIN_TRAIN_PAIRS} (and learns little from fewer than a few hundred).")
    if len(data.eval_queries) < MIN_EVAL:
        raise LabError(f"Only {len(data.eval_queries)} held-out examples: the before/after test needs at "
                       f"least {MIN_EVAL}.")


# --------------------------------------------------------------------------------------------
# preference pairs
# --------------------------------------------------------------------------------------------

@dataclass
class PreferenceData:
    name: str
    train: list[dict[str, str]]  # prompt, chosen, rejected
    held_out: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)

    def sft(self) -> list[dict[str, str]]:
        """The SFT instruction set: each training prompt with its chosen answer."""
        return [{"prompt": r["prompt"], "completion": r["chosen"]} for r in self.train]


def check_preferences(records: Iterable[Any], what: str = "the preference data") -> list[dict[str, str]]:
    """Validated (prompt, chosen, rejected) rows; a :class:`LabError` naming the first bad row."""
    out = []
    for i, rec in enumerate(records, 1):
        if not isinstance(rec, Mapping):
            raise LabError(f"Row {i} of {what} is not an object with prompt, chosen and rejected.")
        missing = [k for k in ("prompt", "chosen", "rejected") if not isinstance(rec.get(k), str)
                   or not rec.get(k, "").strip()]
        if missing:
            raise LabError(f"Row {i} of {what} has no {' / '.join(repr(k) for k in missing)} text: every row "
                           "needs a prompt, a chosen answer and a rejected answer.")
        if rec["chosen"].strip() == rec["rejected"].strip():
            continue  # no preference in it (the arena export drops these too)
        out.append({k: rec[k].strip()[:MAX_CHARS] for k in ("prompt", "chosen", "rejected")})
    return out


def parse_jsonl(text: str, what: str = "the uploaded file") -> list[dict[str, Any]]:
    """JSON lines (or one JSON list) → records, with the line of the first syntax error."""
    text = (text or "").strip()
    if not text:
        raise LabError(f"{what[0].upper()}{what[1:]} is empty.")
    if text.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabError(f"{what} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        return list(data) if isinstance(data, list) else [data]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise LabError(f"Line {n} of {what} is not valid JSON ({exc.msg}); expected one "
                               '{"prompt": …, "chosen": …, "rejected": …} object per line.') from None
    return out


def preference_data(records: Sequence[Any], name: str, n_held_out: int = 8, seed: int = 42,
                    min_train: int = MIN_TRAIN_PAIRS) -> PreferenceData:
    """Split checked preference rows into training pairs and held-out prompts."""
    rows = check_preferences(records, name)
    if len(rows) < min_train + 1:
        raise LabError(f"{name} has {len(rows)} usable preference pair(s) (decisive votes with two different "
                       f"answers); DPO here needs at least {min_train + 1}.")
    rng = random.Random(seed)
    rows = rows[:]
    rng.shuffle(rows)
    held = min(n_held_out, max(1, len(rows) // 5))
    train = rows[held:][: cap_examples(len(rows))]
    return PreferenceData(name, train, rows[:held],
                          notes=[f"{len(train)} training pairs, {held} held out (prompts the comparison uses)."])


def builtin_preferences(n_held_out: int = 8, seed: int = 42) -> PreferenceData:
    """The built-in pairs: chosen = a short direct answer, rejected = the base model's own answer."""
    raw = json.loads(PREFERENCES_FILE.read_text(encoding="utf-8"))
    data = preference_data(raw["pairs"], "the built-in preference pairs", n_held_out, seed)
    data.notes.insert(0, raw.get("description", ""))
    return data


def room_preferences(arena: Any, room: str, n_held_out: int = 8, seed: int = 42) -> PreferenceData:
    """A room's decisive, unflagged votes as DPO pairs (ties and 'both bad' dropped, as the book does)."""
    from core.arena.export import dpo_records

    records = dpo_records(arena.store.votes(room))
    label = f"room {room}" if room else "the public arena"
    if not records:
        raise LabError(f"No decisive, unflagged votes in {label} yet: vote on some battles (ties and "
                       "'both bad' are not preference pairs), or use the built-in pairs.")
    return preference_data(records, f"the votes of {label}", n_held_out, seed)

"""LLM-as-a-judge, pairwise (MT-Bench style), run in both orders to expose position bias."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from core.errors import LabError

SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants "
    "to the user question displayed below. You should choose the assistant that follows the user's instructions "
    "and answers the user's question better. Your evaluation should consider factors such as the helpfulness, "
    "relevance, accuracy, depth, creativity, and level of detail of their responses. Begin your evaluation by "
    "comparing the two responses and provide a short explanation. Avoid any position biases and ensure that the "
    "order in which the responses were presented does not influence your decision. Do not allow the length of "
    "the responses to influence your evaluation. Do not favor certain names of the assistants. Be as objective "
    "as possible. After providing your explanation, output your final verdict by strictly following this format: "
    '"[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.')

USER = ("[User Question]\n{question}\n\n[The Start of Assistant A's Answer]\n{answer_a}\n"
        "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{answer_b}\n"
        "[The End of Assistant B's Answer]")

_VERDICT = re.compile(r"\[\[\s*([ABC])\s*\]\]")


def judge_messages(question: str, answer_a: str, answer_b: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": USER.format(question=question, answer_a=answer_a, answer_b=answer_b)}]


def parse_verdict(text: str) -> str:
    """'A', 'B', 'C' (tie) or 'error' when the judge did not follow the format (last match wins)."""
    found = _VERDICT.findall(text or "")
    return found[-1] if found else "error"


@dataclass(frozen=True)
class Judgement:
    verdict_ab: str  # judge's verdict with the battle's A shown first
    verdict_ba: str  # verdict with the order swapped, mapped back to the battle's labels
    final: str  # "model_a" | "model_b" | "tie" | "inconsistent" | "error"
    consistent: bool
    rationale_ab: str
    rationale_ba: str


_SWAP = {"A": "B", "B": "A", "C": "C", "error": "error"}
_TO_WINNER = {"A": "model_a", "B": "model_b", "C": "tie"}


def combine(verdict_ab: str, verdict_ba_raw: str) -> tuple[str, str, bool]:
    """Map the swapped-order verdict back and combine (MT-Bench: disagreement counts as a tie)."""
    verdict_ba = _SWAP[verdict_ba_raw]
    if "error" in (verdict_ab, verdict_ba):
        return verdict_ba, "error", False
    if verdict_ab == verdict_ba:
        return verdict_ba, _TO_WINNER[verdict_ab], True
    return verdict_ba, "inconsistent", False


def judge_pair(backend: Any, question: str, answer_a: str, answer_b: str, params: Any) -> Judgement:
    """Ask ``backend`` twice (A|B then B|A); raises :class:`LabError` if the judge fails."""
    if not answer_a or not answer_b:
        raise LabError("The battle has no finished answers to judge.")
    first = backend.generate(judge_messages(question, answer_a, answer_b), params)
    second = backend.generate(judge_messages(question, answer_b, answer_a), params)
    v_ab = parse_verdict(first)
    v_ba, final, consistent = combine(v_ab, parse_verdict(second))
    return Judgement(v_ab, v_ba, final, consistent, first.strip(), second.strip())


def human_label(winner: str | None) -> str | None:
    if winner is None:
        return None
    return {"model_a": "model_a", "model_b": "model_b"}.get(winner, "tie")


@dataclass(frozen=True)
class Agreement:
    judged: int
    consistent_rate: float  # same verdict in both orders
    first_position_rate: float  # share of decisive single-order verdicts that picked the first answer
    with_human: int
    agreement: float  # judge final == human (ties merged), over battles with both
    agreement_decisive: float  # over battles where both judge and human picked a winner


def agreement(rows: Sequence[dict[str, Any]]) -> Agreement:
    """Statistics over stored judgements (rows from ``ArenaStore.judgements``)."""
    judged = len(rows)
    consistent = sum(1 for r in rows if r["final"] in ("model_a", "model_b", "tie"))
    # verdict_ab is as shown (first = A); verdict_ba is mapped back, so its *shown* first answer was B
    first = decisive = 0
    for r in rows:
        for v, first_label in ((r["verdict_ab"], "A"), (r["verdict_ba"], "B")):
            if v in ("A", "B"):
                decisive += 1
                first += v == first_label
    both = [r for r in rows if r.get("human")]
    agree = sum(1 for r in both if r["final"] == human_label(r["human"]))
    dec = [r for r in both if r["final"] in ("model_a", "model_b") and human_label(r["human"]) in ("model_a", "model_b")]
    agree_dec = sum(1 for r in dec if r["final"] == r["human"])
    return Agreement(judged, consistent / judged if judged else 0.0, first / decisive if decisive else 0.0,
                     len(both), agree / len(both) if both else 0.0, agree_dec / len(dec) if dec else 0.0)


@dataclass(frozen=True)
class JudgeRun:
    """What :func:`judge_room` did: the statistics and the stored judgements of that judge."""

    agreement: Agreement
    rows: list[dict[str, Any]]
    judged_now: int


def judge_room(arena: Any, judge_id: str, room: str, n: int, max_new_tokens: int = 256) -> JudgeRun:
    """Judge up to ``n`` of the room's most recent voted battles not yet judged by ``judge_id``, each
    in both orders, storing every judgement; stops between battles when the job is stopped."""
    from core.generation import SamplingParams
    from core.jobs import check_stop, report

    judge = arena.contestant(judge_id)
    store = arena.store
    votes = store.votes(room)
    done = {r["battle_id"] for r in store.judgements(room) if r["judge"] == judge_id}
    todo = [v for v in reversed(votes) if v.battle_id not in done][: max(0, int(n))]
    if not todo and not done:
        raise LabError("No voted battles in this room yet: the judge rates battles that humans voted on.")
    backend = judge.make_backend()
    params = SamplingParams(max_new_tokens=max_new_tokens, greedy=True, temperature=1.0)
    for i, v in enumerate(todo):
        check_stop()
        report(i / len(todo), f"judging battle {i + 1} / {len(todo)} in both orders")
        j = judge_pair(backend, v.prompt, v.answer_a, v.answer_b, params)
        store.save_judgement(v.battle_id, judge_id, j.verdict_ab, j.verdict_ba, j.final,
                             j.rationale_ab[-600:] + "\n---\n" + j.rationale_ba[-600:])
    rows = [r for r in store.judgements(room) if r["judge"] == judge_id]
    return JudgeRun(agreement(rows), rows, len(todo))

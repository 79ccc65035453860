"""Prompt-engineering techniques from the book (ch. 6): components, in-context learning, chain
prompting, chain-of-thought, self-consistency, tree-of-thought and output verification.

Builders are pure functions returning chat messages; the runners take any generation backend
(:mod:`core.generation`) and yield small dataclasses the UI renders step by step.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

from core.errors import LabError
from core.generation import Message, SamplingParams

COMPONENTS = ("persona", "instruction", "context", "format", "audience", "tone", "data")

ZERO_SHOT_COT = "Let's think step-by-step."
COT_TRIGGERS = (ZERO_SHOT_COT, "Take a deep breath and think step-by-step.",
                "Let's work through this problem step-by-step.")

COT_EXAMPLE = (
    "Roger has 5 tennis balls. He buys 2 more cans of tennis balls. Each can has 3 tennis balls. "
    "How many tennis balls does he have now?",
    "Roger started with 5 balls. 2 cans of 3 tennis balls each is 6 tennis balls. 5 + 6 = 11. The answer is 11.",
)

TREE_OF_THOUGHT = (
    "Imagine three different experts are answering this question. All experts will write down 1 step of "
    "their thinking, then share it with the group. Then all experts will go on to the next step, etc. If "
    "any expert realizes they're wrong at any point then they leave. The question is '{question}' "
    "Make sure to discuss the results."
)

VERIFY = (
    "Check the answer below for the task. Is it correct, complete and in the requested format?\n\n"
    "Task: {task}\n\nAnswer: {answer}\n\nReply with one word, VALID or INVALID, then one sentence why."
)

TECHNIQUES = {
    "zero-shot": "Zero-shot: just the question",
    "few-shot": "One/few-shot: examples as earlier chat turns",
    "cot": "Chain-of-thought: a worked example first",
    "zero-shot-cot": "Zero-shot CoT: “Let's think step-by-step.”",
    "tree-of-thought": "Tree-of-thought (single prompt, three experts)",
}


def _user(text: str) -> Message:
    return {"role": "user", "content": text}


def assemble(parts: dict[str, str], enabled: Sequence[str] | None = None,
             order: Sequence[str] = COMPONENTS) -> str:
    """Join the enabled components (persona + instruction + … + data) into one prompt (§6.3.1)."""
    use = set(order if enabled is None else enabled)
    chunks = [(parts.get(name) or "").strip() for name in order if name in use]
    text = "\n".join(c for c in chunks if c)
    if not text:
        raise LabError("Every prompt component is empty or switched off: enable at least one.")
    return text


def shot_messages(query: str, examples: Sequence[Sequence[str]] = (), system: str = "") -> list[Message]:
    """Zero-, one- or few-shot: each example (user, assistant) becomes a pair of earlier turns."""
    if not (query or "").strip():
        raise LabError("The prompt is empty: type something for the model to answer.")
    msgs: list[Message] = [{"role": "system", "content": system.strip()}] if system and system.strip() else []
    for ex in examples:
        user, assistant = (str(ex[0] if len(ex) > 0 else "") or "").strip(), (str(ex[1] if len(ex) > 1 else "") or "").strip()
        if not user and not assistant:
            continue
        if not user or not assistant:
            raise LabError("Each example needs both a user message and the assistant's answer.")
        msgs += [_user(user), {"role": "assistant", "content": assistant}]
    msgs.append(_user(query.strip()))
    return msgs


def technique_messages(technique: str, question: str, examples: Sequence[Sequence[str]] = (),
                       trigger: str = ZERO_SHOT_COT, system: str = "") -> list[Message]:
    """Messages for one of :data:`TECHNIQUES`."""
    q = (question or "").strip()
    if not q:
        raise LabError("The question is empty: type something for the model to answer.")
    if technique == "zero-shot":
        return shot_messages(q, (), system)
    if technique == "few-shot":
        return shot_messages(q, examples, system)
    if technique == "cot":
        return shot_messages(q, examples or [COT_EXAMPLE], system)
    if technique == "zero-shot-cot":
        return shot_messages(f"{q} {trigger.strip() or ZERO_SHOT_COT}", (), system)
    if technique == "tree-of-thought":
        return shot_messages(TREE_OF_THOUGHT.format(question=q), (), system)
    raise LabError(f"Unknown technique {technique!r}.")


# --------------------------------------------------------------------------------------------
# answers and votes (self-consistency)
# --------------------------------------------------------------------------------------------

_NUM = r"-?\d[\d,]*(?:\.\d+)?"


def extract_answer(text: str) -> str | None:
    """The final answer of a reasoning output: “The answer is X”, else the last number, else None."""
    if not text:
        return None
    m = re.findall(r"answer is[:\s]*\$?\s*(" + _NUM + r"|[A-Za-z][\w\- ]{0,30}?)(?=[\s.,!]|$)", text, re.IGNORECASE)
    if m:
        return _norm(m[-1])
    nums = re.findall(_NUM, text)
    return _norm(nums[-1]) if nums else None


def _norm(ans: str) -> str:
    ans = ans.strip().rstrip(".").replace(",", "")
    try:
        f = float(ans)
        return str(int(f)) if f.is_integer() else str(f)
    except ValueError:
        return ans.lower()


@dataclass
class Vote:
    winner: str | None
    counts: list[tuple[str, int]]  # most common first
    n: int

    @property
    def share(self) -> float:
        return (self.counts[0][1] / self.n) if self.counts and self.n else 0.0


def majority_vote(answers: Sequence[str | None]) -> Vote:
    counted = Counter(a for a in answers if a is not None)
    counts = counted.most_common()
    return Vote(counts[0][0] if counts else None, counts, len(answers))


@dataclass
class Sample:
    index: int
    text: str
    answer: str | None
    seed: int | None
    done: bool = False


@dataclass
class SelfConsistency:
    samples: list[Sample] = field(default_factory=list)
    vote: Vote = field(default_factory=lambda: Vote(None, [], 0))
    finished: bool = False


def self_consistency(backend: Any, messages: Sequence[Message], params: SamplingParams, n: int = 5,
                     stop: threading.Event | None = None) -> Iterator[SelfConsistency]:
    """Sample ``n`` reasoning paths (seeds seed, seed+1, …), extract answers, majority vote (§6.4.2).
    Yields the growing state after every text piece."""
    if not 1 <= n <= 16:
        raise LabError("Self-consistency needs between 1 and 16 samples.")
    if params.greedy:
        raise LabError("Self-consistency needs sampling: switch greedy off (all samples would be identical).")
    base = params.seed if params.seed is not None else 0
    state = SelfConsistency()
    for i in range(n):
        if stop is not None and stop.is_set():
            break
        sample = Sample(i + 1, "", None, base + i)
        state.samples.append(sample)
        for piece in backend.stream(messages, replace(params, seed=base + i), stop=stop):
            sample.text += piece
            yield state
        sample.answer = extract_answer(sample.text)
        sample.done = True
        state.vote = majority_vote([s.answer for s in state.samples])
        yield state
    state.vote = majority_vote([s.answer for s in state.samples])
    state.finished = True
    yield state


# --------------------------------------------------------------------------------------------
# chain prompting (§6.3.3)
# --------------------------------------------------------------------------------------------

@dataclass
class ChainStep:
    index: int
    prompt: str
    output: str = ""
    done: bool = False


def parse_chain(text: str) -> list[str]:
    """Steps are separated by a line containing only ``---``."""
    steps = [s.strip() for s in re.split(r"^\s*---\s*$", text or "", flags=re.MULTILINE)]
    steps = [s for s in steps if s]
    if not steps:
        raise LabError("The chain has no steps: write one prompt per step, separated by a line with ---.")
    if len(steps) > 5:
        raise LabError("A chain may have at most 5 steps.")
    return steps


def fill_step(template: str, outputs: Sequence[str], user_input: str = "") -> str:
    """``{previous}`` = the last step's output, ``{step1}``… = any earlier output, ``{input}``."""
    values = {"previous": outputs[-1].strip() if outputs else "", "input": user_input.strip()}
    values.update({f"step{i + 1}": o.strip() for i, o in enumerate(outputs)})

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise LabError(f"The chain uses {{{key}}}, which is not defined at this step "
                           f"(use {{previous}}, {{input}} or {{step1}}…).")
        return values[key]

    return re.sub(r"\{(\w+)\}", sub, template)


def run_chain(backend: Any, templates: Sequence[str], params: SamplingParams, user_input: str = "",
              system: str = "", stop: threading.Event | None = None) -> Iterator[list[ChainStep]]:
    """Run the steps in order, each step's output feeding the next; yields all steps so far."""
    steps: list[ChainStep] = []
    outputs: list[str] = []
    for i, template in enumerate(templates):
        if stop is not None and stop.is_set():
            break
        step = ChainStep(i + 1, fill_step(template, outputs, user_input))
        steps.append(step)
        for piece in backend.stream(shot_messages(step.prompt, (), system), params, stop=stop):
            step.output += piece
            yield steps
        step.done = True
        outputs.append(step.output)
        yield steps


# --------------------------------------------------------------------------------------------
# output verification (§6.5)
# --------------------------------------------------------------------------------------------

def verification_messages(task: str, answer: str) -> list[Message]:
    if not (answer or "").strip():
        raise LabError("There is no output to verify yet: run the prompt first.")
    return [_user(VERIFY.format(task=(task or "").strip(), answer=answer.strip()))]


def verify(backend: Any, task: str, answer: str, stop: threading.Event | None = None) -> Iterator[str]:
    """A second call judges ``answer`` for ``task``; yields the verdict text so far. On local models
    the verdict is constrained to "VALID. <one sentence>." or "INVALID. <one sentence>."."""
    from core.generation import LocalBackend
    from core.prompts import constrained as cons

    msgs = verification_messages(task, answer)
    params = SamplingParams(max_new_tokens=48, greedy=True, temperature=1.0)
    kw = cons.plan(cons.VERDICT, backend).stream_kw if isinstance(backend, LocalBackend) else {}
    text = ""
    for piece in backend.stream(msgs, params, stop=stop, **kw):
        text += piece
        yield text

"""core.prompts: constrained decoding on SmolLM2 (llguidance), validation, techniques, sweep,
the rendered-prompt and next-token views, the book's examples."""
from __future__ import annotations

import json
import pickle
import threading
from typing import Any, Iterator, Sequence

import pytest

from core.errors import LabError
from core.generation import LocalBackend, SamplingParams
from core.prompts import constrained as cons
from core.prompts import examples as book
from core.prompts import techniques as tech
from core.generation import Stats, UserStop, make_backend, sampling, timed_stream
from core.prompts.sweep import parse_values, sweep
from core.prompts.view import check_fits, next_token, prompt_view, temperature_table

RPG_SCHEMA = {"type": "object",
              "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 24},
                             "class": {"type": "string", "enum": ["warrior", "mage"]},
                             "level": {"type": "integer", "minimum": 1, "maximum": 99}},
              "required": ["name", "class", "level"], "additionalProperties": False}
RPG_PROMPT = [{"role": "user", "content": "Create a fantasy RPG character as JSON with fields name, class "
                                          "(warrior or mage) and level."}]


@pytest.fixture(scope="module")
def local() -> LocalBackend:
    backend = LocalBackend("chat-smollm2-135m")
    backend.lm()
    return backend


class FakeBackend:
    """Deterministic text by seed, streamed word by word (for technique/sweep logic without a model)."""

    name = "fake"

    def __init__(self, replies: dict[int | None, str] | None = None, default: str = "The answer is 9.") -> None:
        self.replies = replies or {}
        self.default = default
        self.calls: list[tuple[list[dict[str, str]], SamplingParams]] = []

    def stream(self, messages: Sequence[dict[str, str]], params: SamplingParams = SamplingParams(),
               stop: threading.Event | None = None, **_: Any) -> Iterator[str]:
        self.calls.append((list(messages), params))
        text = self.replies.get(params.seed, self.default)
        for i, word in enumerate(text.split(" ")):
            if stop is not None and stop.is_set():
                return
            yield word if i == 0 else " " + word


# --------------------------------------------------------------------------------------------
# constrained decoding (SmolLM2 + llguidance)
# --------------------------------------------------------------------------------------------

def test_constrained_json_parses_and_validates_on_smollm2(local: LocalBackend) -> None:
    c = cons.Constraint("json", json.dumps(RPG_SCHEMA))
    # unconstrained, SmolLM2 writes '{"name": "Maraque"}' plus prose (RECIPES §2): not schema-valid
    assert not cons.validate('{\n  "name": "Maraque"\n}\n\nMaraque is a fantasy RPG character', c).ok
    proc = cons.logits_processor(c, local.model_name)
    out = local.generate(RPG_PROMPT, SamplingParams(max_new_tokens=40, greedy=True), logits_processors=[proc])
    v = cons.validate(out, c)
    assert v.ok, (out, v)
    assert v.value["class"] in ("warrior", "mage") and 1 <= v.value["level"] <= 99
    pickle.dumps(cons.logits_processor(c, local.model_name))  # crosses ZeroGPU's process boundary
    sampled = local.generate(RPG_PROMPT, SamplingParams(max_new_tokens=40, temperature=1.0, seed=1),
                             logits_processors=[cons.logits_processor(c, local.model_name)])
    assert cons.validate(sampled, c).ok, sampled


def test_constrained_choice_and_regex(local: LocalBackend) -> None:
    choice = cons.Constraint("choice", "positive\nnegative")
    out = local.generate([{"role": "user", "content": "Is 'A dull, lifeless film.' positive or negative?"}],
                         SamplingParams(max_new_tokens=4, greedy=True),
                         logits_processors=[cons.logits_processor(choice, local.model_name)])
    assert out in ("positive", "negative") and cons.validate(out, choice).ok
    regex = cons.Constraint("regex", r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    out = local.generate([{"role": "user", "content": "First moon landing date, YYYY-MM-DD?"}],
                         SamplingParams(max_new_tokens=10, greedy=True),
                         logits_processors=[cons.logits_processor(regex, local.model_name)])
    assert cons.validate(out, regex).ok, out


def test_invalid_specs_give_the_parsers_message() -> None:
    with pytest.raises(LabError, match=r"not valid JSON: Expecting property name .*line 1, column 2"):
        cons.parse_schema("{bad")
    with pytest.raises(LabError, match=r"Invalid JSON Schema at type"):
        cons.parse_schema('{"type": 5}')
    with pytest.raises(LabError, match="JSON object"):
        cons.parse_schema("[1, 2]")
    with pytest.raises(LabError, match="empty"):
        cons.parse_schema("  ")
    with pytest.raises(LabError, match="Invalid regex"):
        cons.grammar_for(cons.Constraint("regex", "(ab"))
    with pytest.raises(LabError, match="at least two options"):
        cons.grammar_for(cons.Constraint("choice", "only"))
    assert cons.parse_choices("a, b, a") == ["a", "b"]


def test_validation_reports_json_and_schema_errors() -> None:
    c = cons.Constraint("json", json.dumps(RPG_SCHEMA))
    assert not cons.validate('{"name": "Mara", "class": "warrior", "level":', c).ok
    v = cons.validate('{"name": "Mara", "class": "rogue", "level": 120}', c)
    assert not v.ok and len(v.errors) == 2 and "schema error" in v.message
    assert cons.validate('{"name": "Mara", "class": "mage", "level": 12}', c).value["level"] == 12
    assert cons.response_format(c)["json_schema"]["schema"] == RPG_SCHEMA
    assert cons.response_format(cons.Constraint("choice", "a,b")) is None
    assert not cons.validate("9", cons.Constraint("regex", "[0-9]{2}")).ok


# --------------------------------------------------------------------------------------------
# rendered prompt and next-token view
# --------------------------------------------------------------------------------------------

def test_prompt_view_flags_special_tokens_and_counts(local: LocalBackend) -> None:
    msgs = book.example("chicken-joke")["messages"]
    view = prompt_view(local, msgs, 64)
    assert view.n_tokens == local.count_tokens(local.render_prompt(msgs)) == len(view.tokens)
    assert "".join(t.text for t in view.tokens) == view.text
    specials = [t.text for t in view.tokens if t.special]
    assert specials.count("<|im_start|>") == 3 and specials.count("<|im_end|>") == 2
    assert view.fits and view.window == local.lm().context_window
    tight = prompt_view(local, msgs, view.window)
    assert not tight.fits
    with pytest.raises(LabError, match="context window"):
        check_fits(tight)


def test_next_token_view_and_temperature(local: LocalBackend) -> None:
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    cold = next_token(local, msgs, "The capital of France is", 5, SamplingParams(temperature=0.3, top_k=0))
    assert len(cold.candidates) == 10 and cold.candidates[0].text.strip() == "Paris"
    top = cold.candidates[0]
    assert top.p_t > top.p  # a low temperature sharpens the distribution
    assert sum(c.p for c in cold.candidates) <= 1.0 + 1e-6
    greedy = next_token(local, msgs, "The capital of France is", 5, SamplingParams(greedy=True))
    assert [c.kept for c in greedy.candidates] == [True] + [False] * 9
    nucleus = next_token(local, msgs, "", 0, SamplingParams(temperature=1.0, top_p=0.5, top_k=0))
    assert nucleus.candidates[0].kept and not nucleus.candidates[-1].kept
    with pytest.raises(LabError, match="outside the output"):
        next_token(local, msgs, "Paris", 9)


def test_temperature_table_matches_the_book() -> None:
    t1, t05 = temperature_table([1.0, 2.0], [1.0, 0.5])
    assert [round(x, 4) for x in t1] == [0.2689, 0.7311]
    assert [round(x, 4) for x in t05] == [0.1192, 0.8808]


# --------------------------------------------------------------------------------------------
# techniques, sweep, run helpers (fake backend: no model)
# --------------------------------------------------------------------------------------------

def test_components_and_shots() -> None:
    parts = book.components()
    full = tech.assemble(parts)
    assert full.startswith("You are an expert in Large Language models.") and full.endswith("MY TEXT TO SUMMARIZE")
    short = tech.assemble(parts, ["instruction", "data"])
    assert short == "Summarize the key findings of the paper provided.\nText to summarize: MY TEXT TO SUMMARIZE"
    with pytest.raises(LabError, match="enable at least one"):
        tech.assemble(parts, [])
    screeg = book.example("screeg-one-shot")["messages"]
    built = tech.shot_messages(screeg[2]["content"], [(screeg[0]["content"], screeg[1]["content"])])
    assert built == screeg
    with pytest.raises(LabError, match="both"):
        tech.shot_messages("q", [("only user", "")])
    cot = tech.technique_messages("cot", "The cafeteria had 23 apples?")
    assert cot[1]["content"].endswith("The answer is 11.") and len(cot) == 3
    zs = tech.technique_messages("zero-shot-cot", "Q?")
    assert zs == [{"role": "user", "content": "Q? Let's think step-by-step."}]
    tot = tech.technique_messages("tree-of-thought", "Q?")[0]["content"]
    assert "three different experts" in tot and "'Q?'" in tot
    with pytest.raises(LabError, match="empty"):
        tech.technique_messages("cot", "  ")


def test_answers_and_majority_vote() -> None:
    assert tech.extract_answer("23 - 20 = 3. 3 + 6 = 9. The answer is 9.") == "9"
    assert tech.extract_answer("so they have 9 apples") == "9"
    assert tech.extract_answer("The answer is: 1,200.") == "1200"
    assert tech.extract_answer("no idea") is None
    vote = tech.majority_vote(["9", "9", "3", None, "9"])
    assert vote.winner == "9" and vote.counts == [("9", 3), ("3", 1)] and vote.n == 5


def test_self_consistency_votes_over_seeded_samples() -> None:
    fake = FakeBackend({0: "3 + 6 = 9. The answer is 9.", 1: "The answer is 3.", 2: "So 9 apples."})
    states = list(tech.self_consistency(fake, [{"role": "user", "content": "q"}],
                                        SamplingParams(temperature=0.8, seed=0), n=3))
    final = states[-1]
    assert final.finished and [s.answer for s in final.samples] == ["9", "3", "9"]
    assert final.vote.winner == "9" and [p.seed for _, p in fake.calls] == [0, 1, 2]
    with pytest.raises(LabError, match="greedy"):
        next(tech.self_consistency(fake, [], SamplingParams(greedy=True), n=3))


def test_chain_feeds_each_output_into_the_next_step() -> None:
    fake = FakeBackend(default="MindMeld Messenger")
    steps = book.chain_steps()
    final = list(tech.run_chain(fake, steps, SamplingParams(greedy=True)))[-1]
    assert len(final) == 2 and all(s.done for s in final)
    assert final[1].prompt == "Generate a very short sales pitch for the following product: 'MindMeld Messenger'"
    assert tech.parse_chain("a\n---\nb {step1}") == ["a", "b {step1}"]
    with pytest.raises(LabError, match="not defined"):
        tech.fill_step("{nope}", [])


def test_sweep_grid_and_limits() -> None:
    fake = FakeBackend(default="cluck cluck")
    final = list(sweep(fake, [{"role": "user", "content": "joke"}], [0.3, 1.2], [0.5, 1.0], 2,
                       SamplingParams(max_new_tokens=8, seed=5)))[-1]
    assert final.finished and final.done == 8 and len(final.cells) == 4
    seen = {(p.temperature, p.top_p, p.seed) for _, p in fake.calls}
    assert (1.2, 0.5, 6) in seen and len(seen) == 8 and all(not p.greedy for _, p in fake.calls)
    assert final.cell(0.3, 1.0).distinct == 1
    with pytest.raises(LabError, match="at most 32"):
        next(sweep(fake, [], [0.1, 0.2, 0.3, 0.4], [0.5, 1.0], 5, SamplingParams()))
    with pytest.raises(LabError, match="not a number"):
        parse_values("0.5, hot", "temperature", 0, 5)
    with pytest.raises(LabError, match=r"top_p values must be in \(0, 1\]"):
        parse_values("1.5", "top_p", 0, 1)


def test_run_helpers() -> None:
    with pytest.raises(LabError, match="number"):
        sampling("hot", 1, 50, 10, 1, 0, False)
    with pytest.raises(LabError, match="temperature"):
        sampling(0, 1, 50, 10, 1, 0, False)
    assert sampling(0, 1, 50, 10, 1, None, True).greedy
    assert isinstance(make_backend("Local model", "chat-smollm2-135m"), LocalBackend)
    with pytest.raises(LabError, match="Unknown model"):
        make_backend("Local model", "nope")
    stop, stats = UserStop(), Stats()
    got = []
    for piece in timed_stream(FakeBackend(default="a b c d"), [{"role": "user", "content": "x"}],
                              SamplingParams(), stop=stop, stats=stats):
        got.append(piece)
        if len(got) == 2:
            stop.request()
    assert got == ["a", " b"] and stats.stopped and stats.ttft_s is not None and stats.n_tokens == 2


def test_book_examples_are_complete() -> None:
    ids = {e["id"] for e in book.examples()}
    assert {"chicken-joke", "screeg-one-shot", "cafeteria-cot", "rpg-json"} <= ids
    assert book.example("cafeteria-cot")["expected_answer"] == "9"
    rpg = book.example("rpg-json")["constraint"]
    cons.parse_schema(json.dumps(rpg["spec"]))
    assert len(book.presets()) == 4

"""core.prompts logic moved out of the app: messages from UI values, the constraint policy,
the book examples' data (expected answers, constraint examples)."""
from __future__ import annotations

import pytest

from core.errors import LabError
from core.generation import OpenAIBackend
from core.prompts import constrained as cons
from core.prompts import examples as book
from core.prompts.messages import build_messages, chat_after, example_rows, history, text_of


def test_messages_from_ui_values() -> None:
    turns = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, {"role": "assistant", "content": "yo"}]
    assert text_of(turns[0]["content"]) == "hi" and history(turns)[0] == {"role": "user", "content": "hi"}
    msgs = build_messages(" be brief ", turns, " next ", keep_chat=True)
    assert msgs == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "yo"}, {"role": "user", "content": "next"}]
    assert build_messages("", turns, "next", keep_chat=False) == [{"role": "user", "content": "next"}]
    with pytest.raises(LabError, match="prompt is empty"):
        build_messages("", [], "  ", False)
    assert chat_after(turns, "next", False) == [{"role": "user", "content": "next"},
                                                {"role": "assistant", "content": ""}]
    assert example_rows({"data": [["a", None]]}) == [["a", ""]]


def test_expected_answer_is_data_of_its_example() -> None:
    ex = book.example("cafeteria-cot")
    assert book.expected_answer(ex["messages"][-1]["content"]) == ex["expected_answer"] == "9"
    assert book.expected_answer("The cafeteria had 23 apples...") == "9"  # a shortened copy
    assert book.expected_answer("The bakery had 23 loaves. How many now?") is None
    assert book.expected_answer("") is None


def test_constraint_policy_per_backend() -> None:
    server = OpenAIBackend("http://127.0.0.1:9/v1", "m")
    json_c = cons.from_label("JSON Schema", '{"type": "object"}')
    assert json_c.kind == "json"
    assert cons.plan(json_c, server).stream_kw["response_format"]["type"] == "json_schema"
    choice = cons.from_label("Choice", "yes\nno")
    p = cons.plan(choice, server)
    assert p.stream_kw == {} and "exactly one of: yes, no" in p.prompt_suffix and "cannot enforce" in p.how
    assert cons.plan(choice, server, enforce=False).how.startswith("Not enforced")
    with pytest.raises(LabError, match="Invalid JSON Schema"):
        cons.plan(cons.from_label("JSON Schema", '{"type": 7}'), server, enforce=False)
    v = cons.validate('{"a": 1}', json_c)
    assert cons.pretty('{"a":1}', v) == '{\n  "a": 1\n}'
    assert book.constraint_example("Choice") == ("Is 'A dull, lifeless film.' positive or negative?",
                                                 "positive\nnegative")

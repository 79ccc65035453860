"""Core tests for the Tokenizer Arena: ids, grapheme grouping, escaping, bad input, views."""
from __future__ import annotations

import pytest

from core.errors import LabError
from core.tokenizers import get_tokenizer
from core.tokenizers import compare as arena
from core.tokenizers.render import group_tokens, render_tokens, sanitize, visible

SAMPLE = arena.book_sample()
TIKTOKEN = {"gpt2": "r50k_base", "p50k": "p50k_base", "gpt-4": "cl100k_base", "gpt-4o": "o200k_base"}
TEXTS = [SAMPLE, "hello world", "<|endoftext|> is special", "👨‍👩‍👧‍👦 🇯🇵 人人生而自由", "\t\tdef f():\n    return 1",
         "    ", ""]


def _tiktoken(name: str):
    from core.tokenizers.registry import _tiktoken_encoding

    return _tiktoken_encoding(name)


@pytest.mark.parametrize("arena_id", sorted(TIKTOKEN))
def test_tiktoken_ids_exact(arena_id: str) -> None:
    enc = _tiktoken(TIKTOKEN[arena_id])
    tok = get_tokenizer(arena_id)
    for text in TEXTS:
        assert tok.encode(text).ids == enc.encode(text, allowed_special="all")
        assert tok.encode_ids(text) == enc.encode(text, allowed_special="all")
        assert tok.decode(tok.encode(text).ids) == text


def test_tiktoken_golden_ids() -> None:
    assert get_tokenizer("gpt-4").encode("hello world").ids == [15339, 1917]
    # the book (§2.1.5): GPT-2 cuts 🎵 into ids 8582, 236, 113 and decode() restores it
    gpt2 = get_tokenizer("gpt2")
    assert gpt2.encode("🎵").ids == [8582, 236, 113]
    assert gpt2.decode([8582, 236, 113]) == "🎵"
    assert gpt2.encode(" ").ids == [220]
    assert len(gpt2.encode("870").ids) == 1 and len(gpt2.encode("871").ids) == 2
    assert get_tokenizer("gpt2").vocab_size == 50257


def test_r50k_is_p50k_below_50256() -> None:
    import tiktoken

    r50k, p50k = _tiktoken("r50k_base"), _tiktoken("p50k_base")
    assert r50k.n_vocab == 50257
    for text in TEXTS[:5]:
        assert r50k.encode(text, allowed_special="all") == p50k.encode(text, allowed_special="all") or "  " in text
    assert isinstance(r50k, tiktoken.Encoding)


def test_book_phi3_prompt_ids() -> None:
    """§2.1.2: the Phi-3 prompt's input_ids, exactly as printed in the book."""
    text = ("Write an email apologizing to Sarah for the tragic gardening mishap. Explain how it happened."
            "<|assistant|>")
    enc = get_tokenizer("phi-3").encode(text)
    assert enc.ids == [1, 14350, 385, 4876, 27746, 5281, 304, 19235, 363, 278, 25305, 293, 16423, 292, 286, 728,
                       481, 29889, 12027, 7420, 920, 372, 9559, 29889, 32001]
    assert enc.special[0] and enc.special[-1] and not any(enc.special[1:-1])
    assert get_tokenizer("phi-3").decode([3323, 622, 29901]).strip() == "Subject:"


def test_book_bert_uncased_pieces() -> None:
    enc = get_tokenizer("bert-base-uncased").encode(SAMPLE)
    got = " ".join(enc.pieces())
    assert got == ("[CLS] english and capital ##ization [UNK] [UNK] show _ token ##s false none eli ##f = = > = "
                   "else : two tab ##s : \" \" three tab ##s : \" \" 12 . 0 * 50 = 600 [SEP]")


@pytest.mark.parametrize("arena_id", ["gpt2", "gpt-4", "gpt-4o", "llama-3", "qwen2", "phi-3", "mistral-v1",
                                      "mistral-tekken", "starcoder", "claude-legacy"])
def test_grapheme_grouping_never_splits_characters(arena_id: str) -> None:
    text = "🎵 鸟 👍🏽 👨‍👩‍👧‍👦 🇯🇵 人人生而自由 é"
    tok = get_tokenizer(arena_id)
    enc = tok.encode(text)
    groups = group_tokens(enc)
    assert sum(len(g.tokens) for g in groups) == len(enc.ids)  # every token shown exactly once
    shown = "".join(text[g.start:g.end] for g in groups if g.start < g.end)
    assert shown.replace(" ", "") == text.replace(" ", "")
    import regex

    graphemes = {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}
    for g in groups:
        assert g.start in graphemes and g.end in graphemes, (arena_id, text[g.start:g.end])
    html = render_tokens(enc, tok)
    assert "\ufffd" not in html and "�" not in html
    family = next(g for g in groups if "👨" in text[g.start:g.end])
    assert text[family.start:family.end].strip() == "👨‍👩‍👧‍👦"


def test_grapheme_group_carries_all_ids() -> None:
    tok = get_tokenizer("gpt2")
    enc = tok.encode("🎵")
    (group,) = group_tokens(enc)
    assert [enc.ids[k] for k in group.tokens] == [8582, 236, 113]
    assert 'data-i="8582 236 113"' in render_tokens(enc, tok)


def test_html_is_escaped() -> None:
    text = "<script>alert('x')</script><img src=x onerror=alert(1)> & \"q\""
    result = arena.compare(text, ["gpt-4", "bert-base-uncased", "mistral-v1"])
    for col in result.columns:
        assert "<script" not in col.html and "<img" not in col.html
        assert "&lt;script&gt;" in col.html or "&lt;" in col.html
    assert "<script" not in result.diff.html
    assert visible("<b>") == "&lt;b&gt;"


def test_bad_input_control_chars_and_surrogates() -> None:
    text, notes = sanitize("a\ud800b\x00c\x07")
    assert "\ud800" not in text and "\ufffd" in text and len(notes) == 2
    result = arena.compare("a\ud800b\x00c\x07\u200b", ["gpt-4", "phi-3", "bert-base-uncased"])
    assert all(c.stats and c.stats.tokens > 0 for c in result.columns)
    assert any("surrogate" in n for n in result.notes)
    assert "␀" in result.columns[0].html and "␇" in result.columns[0].html


def test_empty_and_no_selection() -> None:
    result = arena.compare("", ["gpt-4", "bert-base-uncased"])
    assert result.columns[0].stats.tokens == 0 and result.columns[1].stats.tokens == 2  # [CLS] [SEP]
    with pytest.raises(LabError):
        arena.compare("hi", [])


def test_unknown_and_hub_ids_offline_are_one_line_errors() -> None:
    ids = arena.resolve_selection(["gpt-4"], "google/flan-t5-small, bigcode/starcoder2-15b")
    assert ids == ["gpt-4", "hub:google/flan-t5-small", "hub:bigcode/starcoder2-15b"]
    result = arena.compare("hello", ids + ["no-such-tokenizer"])
    errors = [c.error for c in result.columns[1:]]
    assert all(e and "\n" not in e for e in errors)
    assert "Hub" in errors[0] and "Unknown tokenizer" in errors[2]


def test_long_text_counts_everything_renders_first_n() -> None:
    text = (SAMPLE * 9000)[:1_048_576]  # 1 MiB of characters
    result = arena.compare(text, ["gpt-4", "bert-base-uncased"], limit=500)
    gpt4 = result.columns[0]
    assert gpt4.stats.tokens == len(_tiktoken("cl100k_base").encode(text, allowed_special="all"))
    assert gpt4.shown_tokens == 500 and gpt4.html.count('class="tk') <= 500
    assert result.counts.characters == len(text)
    assert any("first 500" in n for n in result.notes)


def test_boundary_diff() -> None:
    same = arena.compare("hello world, hello tokens", ["gpt-4", "gpt-4o"])
    assert same.diff.agreement == 1.0
    mixed = arena.compare(SAMPLE, ["bert-base-uncased", "gpt2", "gpt-4"])
    assert 0.05 < mixed.diff.agreement < 0.9
    assert any(not ok for _, _, ok in mixed.diff.spans)
    assert 'class="bd-no"' in mixed.diff.html


def test_stats_and_metadata() -> None:
    result = arena.compare(SAMPLE, ["bert-base-uncased", "gpt2", "gpt-4", "phi-3", "mistral-v1"])
    by_id = {c.tokenizer: c for c in result.columns}
    assert by_id["bert-base-uncased"].stats.algorithm == "WordPiece"
    assert by_id["bert-base-uncased"].stats.vocab_size == 30522
    assert "[CLS]" in by_id["bert-base-uncased"].special_tokens_defined
    assert "<|endoftext|>" in by_id["gpt2"].special_tokens_defined
    assert "SentencePiece" in by_id["mistral-v1"].stats.algorithm
    assert by_id["gpt-4"].stats.tokens < by_id["gpt2"].stats.tokens  # whitespace runs, CAPITALIZATION
    assert result.counts.bytes > result.counts.characters
    rows = arena.summary_rows(result)
    assert len(rows) == 5 and rows[0][0] == "BERT base uncased"


@pytest.mark.parametrize("arena_id,marker", [("phi-3", "<|user|>"), ("qwen2", "<|im_start|>"),
                                             ("smollm2", "<|im_start|>")])
def test_chat_templates(arena_id: str, marker: str) -> None:
    view = arena.chat_view(arena_id, "Be brief.", "Hello there", "Hi!")
    assert marker in view.prompt and "Hello there" in view.prompt
    assert view.special_tokens >= 3 and view.tokens > view.content_tokens
    assert "tk-sp" in view.html


def test_chat_template_missing() -> None:
    with pytest.raises(LabError, match="no chat template"):
        arena.chat_view("gpt-4", "", "hi", "")


def test_language_cost() -> None:
    result = arena.language_cost(["gpt2", "gpt-4o"], [["gpt-4o", "GPT-4o", 2.5], ["bad", "x", "y"]])
    assert len(result.languages) >= 11 and "Swahili" in result.languages and "Python code" in result.languages
    hindi = result.languages.index("Hindi")
    # measured: GPT-2 8.97× English for Hindi, GPT-4o 1.67×
    assert result.relative[hindi][0] > 6 and result.relative[hindi][1] < 2.5
    assert result.relative[result.languages.index("English")] == [1.0, 1.0]
    assert len(result.cost_rows) == 1 and result.cost_rows[0][3] > 0
    from core.tokenizers.charts import counts_figure, language_cost_figure

    fig = language_cost_figure(result)
    assert len(counts_figure(["a", "b", "broken"], [3, 5, None]).data[0].x) == 2
    assert len(fig.data) == 2


def test_decode_many() -> None:
    rows = arena.decode_many("[8582, 236, 113]", ["gpt2", "bert-base-uncased"])
    assert rows[0].text == "🎵" and not rows[0].error
    bad = arena.decode_many("99999999", ["gpt2"])
    assert "outside this vocabulary" in bad[0].error
    with pytest.raises(LabError):
        arena.decode_many("1 two 3", ["gpt2"])


def test_every_offline_tokenizer_loads_and_round_trips() -> None:
    from core.tokenizers import available_specs

    for spec in available_specs():
        tok = get_tokenizer(spec.id)
        enc = tok.encode("Hello world 🎵")
        assert enc.ids and tok.vocab_size > 1000, spec.id
        assert len(group_tokens(enc)) >= 2


def test_hub_errors_are_one_clear_line() -> None:
    from core.tokenizers.registry import _hub_error

    gated = _hub_error("bigcode/starcoder2-15b", OSError("You are trying to access a gated repo. 401 Client Error"))
    assert "gated" in str(gated) and "HF_TOKEN" in str(gated)
    missing = _hub_error("nobody/nothing", OSError("nobody/nothing is not a local folder and is not a valid model "
                                                   "identifier listed on 'https://huggingface.co/models'"))
    assert "No tokenizer 'nobody/nothing'" in str(missing)
    for err in (gated, missing):
        assert "\n" not in str(err)


def test_share_link_restore() -> None:
    """The arena's share links (``?text=…&tok=…&ids=1``) open through the take-home row's restore."""
    from types import SimpleNamespace

    from apps.tokenizers.takehome_row import on_load

    req = SimpleNamespace(query_params={"text": "<b>hi</b>", "tok": "gpt2,evil<script>,gpt-4,hub:x/y", "ids": "1"})
    text, selected, extra, show_ids, _, tab, message = on_load(req)
    assert text == "<b>hi</b>" and selected == ["gpt2", "gpt-4"] and extra == "" and show_ids
    assert tab == "compare" and message == ""
    text, selected, _, show_ids, _, _, _ = on_load(SimpleNamespace(query_params={}))
    assert text == SAMPLE and selected and not show_ids

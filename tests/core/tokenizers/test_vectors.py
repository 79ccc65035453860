"""Golden tests: llama.cpp's own tokenizer test vectors through the arena's core interface.

Every GGUF vocabulary that transformers 5.23 can read is converted by the prepare step and run
against ``ggml-vocab-<name>.gguf.inp/.out``. Known mismatches are data, not skips: the test fails if a
vocabulary gets better or worse than recorded here, so a library upgrade shows up.
"""
from __future__ import annotations

import pytest

from core.assets import asset_dir, is_installed

pytestmark = pytest.mark.skipif(not is_installed("gguf-vocabs"), reason="run `python -m core.assets fetch`")

#: stem → (matched, total, inputs that do not match llama.cpp)
EXPECTED = {
    "gpt-2": (46, 46, set()),
    "llama-bpe": (45, 46, {"Cửa Việt"}),  # Vietnamese diacritics: HF merges differently than llama.cpp
    # llama.cpp's SPM tokenizer adds no dummy-prefix space before a leading space; HF's Metaspace does
    "llama-spm": (31, 46, {" ", "  ", "   ", " Hello world", " Hello World", " Hello World!", " Hello, world!",
                           " this is 🦙.cpp", " Hello", "  Hello", "   Hello", "    Hello", "    Hello\n    Hello",
                           " (", " discards"}),
    "phi-3": (46, 46, set()),
    "qwen2": (46, 46, set()),
    "qwen35": (50, 50, set()),
    "starcoder": (45, 46, {"ied 4 ½ months"}),  # '½' (NFKC / byte handling differs)
    "deepseek-coder": (45, 46, {"ied 4 ½ months"}),
    "deepseek-llm": (45, 46, {"ied 4 ½ months"}),
    # Falcon's pre-tokenizer splits digit runs in threes in llama.cpp; the converted HF one does not
    "falcon": (37, 46, None),
}


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_llama_cpp_vectors(stem: str) -> None:
    from core.tokenizers.vectors import run_vectors

    result = run_vectors(stem)
    matched, total, failing = EXPECTED[stem]
    got_failing = {text for text, _, _ in result.mismatches}
    print(f"{stem}: {result.matched}/{result.total} llama.cpp vectors match")
    assert result.total == total
    assert result.matched == matched, f"{stem}: now {result.matched}/{total} (recorded {matched}); {sorted(got_failing)[:5]}"
    if failing is not None:
        assert got_failing == failing


def test_every_vocab_with_vectors_is_covered() -> None:
    """No vocabulary that ships vectors and loads is silently left out."""
    from core.tokenizers import GGUF_UNSUPPORTED, GGUF_VOCABS

    folder = asset_dir("gguf-vocabs")
    with_vectors = {p.name[len("ggml-vocab-"):-len(".gguf.inp")] for p in folder.glob("ggml-vocab-*.gguf.inp")}
    assert with_vectors - set(EXPECTED) <= set(GGUF_UNSUPPORTED)
    assert set(EXPECTED) <= set(GGUF_VOCABS)


def test_tiktoken_r50k_matches_llama_cpp_gpt2_vectors() -> None:
    """GPT-2 through tiktoken (r50k built from p50k's ranks) = llama.cpp's GPT-2 vectors, all of them."""
    from core.tokenizers import get_tokenizer
    from core.tokenizers.vectors import read_vectors

    tok = get_tokenizer("gpt2")
    cases = read_vectors("gpt-2")
    bad = [text for text, ids in cases if tok.encode(text, add_special_tokens=False).ids != ids]
    assert not bad and len(cases) == 46

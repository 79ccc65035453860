"""Golden tests: llama.cpp's own tokenizer test vectors through the arena's core interface.

llama.cpp wrote ``ggml-vocab-<name>.gguf.out`` with each model's *original* Hugging Face tokenizer
(``convert_hf_to_gguf_update.py``), so the vectors are the real tokenizer's ids. Every GGUF
vocabulary is converted by the prepare step and corrected to its model's settings
(:mod:`core.tokenizers.convert`); each must reproduce every vector. No misses are excused: a
mismatch means the conversion lost a setting of the original.
"""
from __future__ import annotations

import pytest

from core.assets import asset_dir, is_installed

pytestmark = pytest.mark.skipif(not is_installed("gguf-vocabs"), reason="run `python -m core.assets fetch`")

#: stem → number of llama.cpp vectors (all must match)
VECTORS = {"gpt-2": 46, "llama-bpe": 46, "llama-spm": 46, "phi-3": 46, "qwen2": 46, "qwen35": 50,
           "starcoder": 46, "deepseek-coder": 46, "deepseek-llm": 46, "falcon": 46}


@pytest.mark.parametrize("stem", sorted(VECTORS))
def test_llama_cpp_vectors(stem: str) -> None:
    from core.tokenizers.vectors import run_vectors

    result = run_vectors(stem)
    print(f"{stem}: {result.matched}/{result.total} llama.cpp vectors match")
    assert result.total == VECTORS[stem]
    first = [(text, expected, got) for text, expected, got in result.mismatches[:3]]
    assert result.matched == result.total, f"{stem}: {result.matched}/{result.total}; {first}"


def test_llama3_counts_vietnamese_like_meta() -> None:
    """The issue's example: ignore_merges keeps whole vocabulary words (Meta's tokenizer: 3 tokens)."""
    from core.tokenizers import get_tokenizer

    tok = get_tokenizer("gguf:llama-bpe")
    assert tok.encode("Cửa Việt", add_special_tokens=False).ids == [34, 91163, 101798]
    assert tok.encode("hi", add_special_tokens=True).ids[0] == 128000  # <|begin_of_text|> like Meta's


def test_no_special_token_appended_after_the_vocabulary() -> None:
    """Llama 3 has 256 special tokens (128000–128255); DeepSeek's BOS/EOS keep their own ids."""
    import json

    from core.tokenizers.registry import convert_gguf

    for stem, bos in (("llama-bpe", 128000), ("deepseek-coder", 32013), ("deepseek-llm", 100000)):
        data = json.loads((convert_gguf(stem) / "tokenizer.json").read_text(encoding="utf-8"))
        size = len(data["model"]["vocab"])
        assert all(a["id"] < size for a in data["added_tokens"]), stem
        assert data["post_processor"]["special_tokens"][next(iter(data["post_processor"]["special_tokens"]))][
            "ids"] == [bos]
    llama = json.loads((convert_gguf("llama-bpe") / "tokenizer.json").read_text(encoding="utf-8"))
    assert sum(a["special"] for a in llama["added_tokens"]) == 256
    assert llama["model"]["ignore_merges"] is True


def test_every_vocab_with_vectors_is_covered() -> None:
    """No vocabulary that ships vectors and loads is silently left out."""
    from core.tokenizers import GGUF_UNSUPPORTED, GGUF_VOCABS

    folder = asset_dir("gguf-vocabs")
    with_vectors = {p.name[len("ggml-vocab-"):-len(".gguf.inp")] for p in folder.glob("ggml-vocab-*.gguf.inp")}
    assert with_vectors - set(VECTORS) <= set(GGUF_UNSUPPORTED)
    assert set(VECTORS) <= set(GGUF_VOCABS)


def test_tiktoken_r50k_matches_llama_cpp_gpt2_vectors() -> None:
    """GPT-2 through tiktoken (r50k built from p50k's ranks) = llama.cpp's GPT-2 vectors, all of them."""
    from core.tokenizers import get_tokenizer
    from core.tokenizers.vectors import read_vectors

    tok = get_tokenizer("gpt2")
    cases = read_vectors("gpt-2")
    bad = [text for text, ids in cases if tok.encode(text, add_special_tokens=False).ids != ids]
    assert not bad and len(cases) == 46

"""Tiny models built from configs (never downloaded): the trainers' code paths in seconds."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_bert_folder(path: Path) -> Path:
    """A 2-block BERT (hidden 32) with MiniLM's tokenizer, saved like a Hub checkpoint (stands in for
    bert-base-cased / MiniLM)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from core.assets import asset_dir

    tok = AutoTokenizer.from_pretrained(str(asset_dir("minilm")))
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path


def tiny_sentence_transformer(path: Path) -> Path:
    """A SentenceTransformer folder (tiny BERT + mean pooling)."""
    from sentence_transformers import SentenceTransformer, models

    bert = tiny_bert_folder(path / "bert")
    st = SentenceTransformer(modules=[models.Transformer(str(bert), max_seq_length=64),
                                      models.Pooling(32, pooling_mode="mean")], device="cpu")
    st.save(str(path / "st"))
    return path / "st"


def tiny_causal_lm() -> tuple[Any, Any]:
    """A 2-layer Llama (hidden 32) with SmolLM2's tokenizer and chat template."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from core.loader import smollm2_folder

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(str(smollm2_folder()))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         tie_word_embeddings=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                         bos_token_id=tok.bos_token_id)
    return LlamaForCausalLM(config), tok

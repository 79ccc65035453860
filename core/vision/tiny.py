"""Tiny randomly initialised CLIP / BLIP / BLIP-2 built from configs (no weights, no network).

They run the real transformers code paths of :mod:`core.vision.clip` and :mod:`core.vision.blip`
in tests and benchmarks; their outputs are meaningless, their shapes and plumbing are not.
"""
from __future__ import annotations

import string
from typing import Any

from core.vision.blip import BlipBundle
from core.vision.clip import ClipBundle

WORDS = ("a photo of the an cat dog car cup coffee rocket astronaut motorcycle sitting on table with red "
         "blue green what is this in picture question answer write down you see").split()


def _quiet() -> Any:
    import contextlib
    import warnings

    @contextlib.contextmanager
    def ctx() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from transformers.utils import logging as hf_logging

            level = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()
            try:
                yield
            finally:
                hf_logging.set_verbosity(level)
    return ctx()


def _image_processor(kind: str) -> Any:
    if kind == "clip":
        from core.vision.clip import default_image_processor

        return default_image_processor()
    try:
        from transformers import BlipImageProcessorPil as P
    except ImportError:  # pragma: no cover
        from transformers import BlipImageProcessor as P
    return P(size={"height": 224, "width": 224})


def tiny_clip(seed: int = 0, hidden: int = 32, projection: int = 16) -> ClipBundle:
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer

    with _quiet():
        vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
        for w in WORDS:
            vocab.setdefault(w + "</w>", len(vocab))
        for c in string.ascii_lowercase + string.digits + ".,'!?-":
            vocab.setdefault(c, len(vocab))
            vocab.setdefault(c + "</w>", len(vocab))
        tok = CLIPTokenizer(vocab=vocab, merges=[])
        processor = CLIPProcessor(image_processor=_image_processor("clip"), tokenizer=tok)
        torch.manual_seed(seed)
        cfg = CLIPConfig(
            text_config=dict(vocab_size=len(vocab), hidden_size=hidden, intermediate_size=2 * hidden,
                             num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=77,
                             bos_token_id=0, eos_token_id=1, pad_token_id=1),
            vision_config=dict(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
                               num_attention_heads=4, image_size=224, patch_size=32),
            projection_dim=projection)
        model = CLIPModel(cfg).eval()
    return ClipBundle(model, processor, "tiny CLIP (random)")


def tiny_blip(seed: int = 0) -> BlipBundle:
    import torch
    from transformers import BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipProcessor

    with _quiet():
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"]
        vocab = {t: i for i, t in enumerate(specials)}
        for w in [*WORDS, *string.ascii_lowercase, *":?.,"]:
            vocab.setdefault(w, len(vocab))
        tok = BertTokenizer(vocab=vocab, bos_token="[DEC]")
        processor = BlipProcessor(image_processor=_image_processor("blip"), tokenizer=tok)
        torch.manual_seed(seed)
        cfg = BlipConfig(
            text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=4, bos_token_id=vocab["[DEC]"], pad_token_id=0, sep_token_id=3,
                             eos_token_id=3, max_position_embeddings=64),
            vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                               image_size=224, patch_size=32),
            projection_dim=16)
        model = BlipForConditionalGeneration(cfg).eval()
    return BlipBundle(model, processor, "blip", "tiny BLIP (random)")


def tiny_blip2(seed: int = 0, num_query_tokens: int = 4) -> BlipBundle:
    import torch
    from transformers import (AddedToken, Blip2Config, Blip2ForConditionalGeneration, Blip2Processor,
                              GPT2Tokenizer)

    with _quiet():
        vocab = {"<|endoftext|>": 0, "Ġ": 1}
        for t in [*string.ascii_letters, *":?.,$", *("Ġ" + w for w in WORDS)]:
            vocab.setdefault(t, len(vocab))
        tok = GPT2Tokenizer(vocab=vocab, merges=[])
        tok.add_tokens([AddedToken("<image>", normalized=False, special=True)], special_tokens=True)
        processor = Blip2Processor(image_processor=_image_processor("blip2"), tokenizer=tok,
                                   num_query_tokens=num_query_tokens)
        torch.manual_seed(seed)
        cfg = Blip2Config(
            vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                               image_size=224, patch_size=32),
            qformer_config=dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                num_attention_heads=4, encoder_hidden_size=32),
            text_config=dict(model_type="opt", vocab_size=len(tok), hidden_size=32, ffn_dim=64, num_hidden_layers=1,
                             num_attention_heads=4, word_embed_proj_dim=32, bos_token_id=0, eos_token_id=0,
                             pad_token_id=0, max_position_embeddings=256),
            num_query_tokens=num_query_tokens, image_token_index=tok.convert_tokens_to_ids("<image>"))
        model = Blip2ForConditionalGeneration(cfg).eval()
    return BlipBundle(model, processor, "blip2", "tiny BLIP-2 (random)")


def install(name: str, bundle: Any) -> tuple[str, str]:
    """Put ``bundle`` into the model cache as the hub-mode copy of catalogue entry ``name``
    (tests/benchmarks); returns the cache key so the caller can remove it with :func:`uninstall`."""
    from core.loader import cache

    key = (name, "hub")
    uninstall(key)
    cache().get(key, 1, lambda: bundle)
    return key


def uninstall(key: tuple[str, str]) -> None:
    from core.loader import cache

    cache().discard(key)

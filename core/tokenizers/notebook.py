"""Tokenizer Arena → a notebook that tokenizes the same text with the same vocabulary files, calling
tiktoken / tokenizers / transformers / sentencepiece directly (book ch. 2, §2.1).

Offline, the notebook reads the same files the lab reads (``offline_asset``); llama.cpp vocabularies
the lab converted and corrected (:mod:`core.tokenizers.convert`) travel with the notebook as
``data/tokenizer-<id>.json`` so the ids match the lab's exactly. It prints ``LAB_RESULT`` with every
tokenizer's ids and count.
"""
from __future__ import annotations

from typing import Any, Mapping

from core.notebooks import Notebook
from core.tokenizers.registry import HUB_PREFIX, SPEC_BY_ID, gguf_folder, label_of

PACKAGES = ("tiktoken", "tokenizers", "transformers", "sentencepiece")
#: Arena tabs ↔ link values (the tab a link reopens).
TABS = {"compare": "tokenizers-compare-tab", "chat": "tokenizers-chat-tab", "cost": "tokenizers-cost-tab",
        "decode": "tokenizers-decode-tab", "explain": "tokenizers-explain-tab"}

_HELPERS = '''
import json, os, pathlib

RESULTS = {}  # arena id -> token ids


def show(name, ids, piece):
    """The book's colourful view, as text: each token between | |."""
    RESULTS[name] = [int(i) for i in ids]
    print(f"{name}: {len(ids)} tokens")
    print("|" + "|".join(piece(i) for i in ids[:60]) + ("|…" if len(ids) > 60 else "|"))
'''.strip()


def _cell(arena_id: str, nb: Notebook) -> tuple[str, str]:
    """(Markdown, code) that loads ``arena_id`` the way the lab does and tokenizes TEXT."""
    label = label_of(arena_id)
    if arena_id.startswith(HUB_PREFIX):
        hub = arena_id[len(HUB_PREFIX):]
        return (f"**{label}** from the Hugging Face Hub (`AutoTokenizer`, as in the book).",
                f"from transformers import AutoTokenizer\n\ntok = AutoTokenizer.from_pretrained({hub!r})\n"
                f"ids = tok(TEXT)['input_ids']\nshow({arena_id!r}, ids, lambda i: tok.convert_ids_to_tokens(i))")
    spec = SPEC_BY_ID[arena_id]
    if spec.source == "tiktoken":
        build = (f"enc = tiktoken.get_encoding({spec.ref!r})" if spec.ref != "r50k_base" else
                 "# r50k_base (GPT-2) = p50k_base's ranks below 50,256 plus <|endoftext|>\n"
                 "p50k = tiktoken.get_encoding('p50k_base')\n"
                 "enc = tiktoken.Encoding('r50k_base', pat_str=p50k._pat_str,\n"
                 "                        mergeable_ranks={t: r for t, r in p50k._mergeable_ranks.items() if r < 50256},\n"
                 "                        special_tokens={'<|endoftext|>': 50256}, explicit_n_vocab=50257)")
        return (f"**{label}** — tiktoken's `{spec.ref}` rank file ({spec.family}).",
                "import tiktoken\n\nif MODE == 'offline':\n"
                "    os.environ['TIKTOKEN_CACHE_DIR'] = str(offline_asset('tiktoken'))\n"
                f"{build}\nids = enc.encode(TEXT, allowed_special='all')\n"
                f"show({arena_id!r}, ids, lambda i: enc.decode_single_token_bytes(i).decode('utf-8', 'replace'))")
    if spec.source == "tekken":
        return (f"**{label}** — Mistral's Tekken file read as a tiktoken encoding ({spec.family}).",
                "import base64, tiktoken\n\n"
                f"data = json.loads((offline_asset('mistral') / {spec.ref!r}).read_text(encoding='utf-8'))\n"
                "cfg = data['config']\nn_special = int(cfg.get('default_num_special_tokens', 1000))\n"
                "n_ranks = int(cfg.get('default_vocab_size', 131072)) - n_special\n"
                "ranks = {base64.b64decode(v['token_bytes']): int(v['rank']) for v in data['vocab'][:n_ranks]}\n"
                "enc = tiktoken.Encoding('tekken', pat_str=cfg['pattern'], mergeable_ranks=ranks, special_tokens={})\n"
                "ids = [1] + [r + n_special for r in enc.encode(TEXT)]  # <s> first, ranks after the special ids\n"
                f"show({arena_id!r}, ids, lambda i: '<s>' if i < n_special else "
                "enc.decode_single_token_bytes(i - n_special).decode('utf-8', 'replace'))")
    if spec.source == "spm":
        return (f"**{label}** — the SentencePiece model file ({spec.family}).",
                "import sentencepiece as spm\n\n"
                f"sp = spm.SentencePieceProcessor(model_file=str(offline_asset('mistral') / {spec.ref!r}))\n"
                f"ids = sp.encode(TEXT, add_bos=True)\nshow({arena_id!r}, ids, sp.id_to_piece)")
    if spec.source == "tokenizer-json":
        return (f"**{label}** — its published `tokenizer.json` (🤗 tokenizers).",
                "from tokenizers import Tokenizer\n\n"
                f"tok = Tokenizer.from_file(str(offline_asset('tiktoken') / {spec.ref!r}))\n"
                f"ids = tok.encode(TEXT).ids\nshow({arena_id!r}, ids, tok.id_to_token)")
    if spec.source == "bert-vocab":
        return (f"**{label}** — the book's first tokenizer (WordPiece). Offline it is MiniLM's vocabulary, "
                "which is bert-base-uncased's.",
                "from transformers import AutoTokenizer\n\n"
                f"tok = AutoTokenizer.from_pretrained(str(offline_asset('minilm')) if MODE == 'offline' else {spec.hub_id!r})\n"
                f"ids = tok(TEXT)['input_ids']\nshow({arena_id!r}, ids, tok.convert_ids_to_tokens)")
    if spec.source in ("gguf", "smollm2"):
        rel = _bundle_converted(arena_id, spec, nb)
        where = ("llama.cpp's vocabulary file, converted and corrected by the lab "
                 f"(`ggml-vocab-{spec.ref}.gguf`)" if spec.source == "gguf" else "SmolLM2's own tokenizer.json")
        return (f"**{label}** — {where}; the file travels with this notebook as `{rel}`.",
                "from tokenizers import Tokenizer\n\n"
                f"tok = Tokenizer.from_file({rel!r})\nids = tok.encode(TEXT).ids\n"
                f"show({arena_id!r}, ids, tok.id_to_token)")
    return (f"**{label}** from the Hugging Face Hub.",
            f"from transformers import AutoTokenizer\n\ntok = AutoTokenizer.from_pretrained({spec.hub_id or spec.ref!r})\n"
            f"ids = tok(TEXT)['input_ids']\nshow({arena_id!r}, ids, tok.convert_ids_to_tokens)")


def _bundle_converted(arena_id: str, spec: Any, nb: Notebook) -> str:
    if spec.source == "smollm2":
        from core.loader import smollm2_folder

        folder = smollm2_folder()
    else:
        from core.tokenizers.registry import convert_gguf

        folder = gguf_folder(spec.ref)
        if not (folder / "tokenizer.json").exists():
            convert_gguf(spec.ref)
    return nb.add_data(f"tokenizer-{arena_id}.json", (folder / "tokenizer.json").read_bytes())


def notebook(state: Mapping[str, Any], *, app: Any) -> Notebook:
    """The notebook of a comparison: ``state`` = {"text", "tok": [arena ids], "ids", "tab"}."""
    MANIFEST = app  # the app's manifest (slug, title, chapters), given by the caller
    from core.settings import get_settings
    from core.tokenizers.render import sanitize

    text, _ = sanitize(str(state.get("text") or ""))
    ids = [t for t in state.get("tok") or [] if t in SPEC_BY_ID or str(t).startswith(HUB_PREFIX)]
    nb = Notebook(MANIFEST.slug, MANIFEST.title, MANIFEST.chapters[0],
                  parameters={"text_chars": len(text), "tokenizers": ids}, models=())
    cells = [_cell(t, nb) for t in ids]  # before setup(): bundled files are named there
    nb.setup(PACKAGES, assets=("tiktoken", "mistral", "minilm"), mode=get_settings().mode)
    nb.section("§2.1.3 How does the tokenizer break down text?",
               "The text the lab tokenized, and a helper that prints each token between bars.")
    rel = nb.add_data("text.txt", text.encode("utf-8")) if len(text) > 2000 else None
    nb.code(_HELPERS + "\n\n" + (f"TEXT = pathlib.Path({rel!r}).read_text(encoding='utf-8')" if rel
                                 else f"TEXT = {text!r}") + "\nprint(len(TEXT), 'characters')")
    nb.section("§2.1.5 Comparing trained LLM tokenizers",
               "Each tokenizer loads from the same files the lab used and encodes the text with its special "
               "tokens, as the lab counts them.")
    for md, code in cells:
        nb.md(md)
        nb.code(code)
    nb.section("§2.1.5 The summary table", "Token counts side by side (the lab's Counts table).")
    nb.code("for name, ids in RESULTS.items():\n    print(f'{name:>22}  {len(ids):6d} tokens')\n"
            "print('LAB_RESULT ' + json.dumps({'counts': {k: len(v) for k, v in RESULTS.items()}, 'ids': RESULTS}))")
    return nb

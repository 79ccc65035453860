"""One tokenizer interface over ``tokenizers``, ``transformers``, ``tiktoken`` and ``sentencepiece``.

Every backend returns the same :class:`Encoding`: token ids, and for each token the character span
of the original text it came from (``start == end`` for tokens that cover no text of their own,
such as ``[CLS]`` or the leading bytes of a character split over several byte tokens). Piece strings
(``Ġworld``, ``##s``, ``<0xF0>``) are looked up lazily, only for the tokens that are displayed.
No tokenization logic is written here: the libraries do all of it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


@dataclass
class Encoding:
    """The result of one tokenizer on one text."""

    tokenizer: str  # arena id
    text: str
    ids: list[int]
    starts: list[int]  # character offsets into ``text``
    ends: list[int]
    special: list[bool]
    _piece: Callable[[int], str] = field(repr=False, default=lambda i: str(i))

    def __len__(self) -> int:
        return len(self.ids)

    def piece(self, index: int) -> str:
        """Vocabulary string of token ``index`` (e.g. ``Ġworld``, ``##s``, ``<0xF0>``)."""
        return self._piece(self.ids[index])

    def pieces(self, limit: int | None = None) -> list[str]:
        return [self._piece(i) for i in self.ids[:limit]]


def byte_to_char_map(text: str) -> np.ndarray:
    """``m[b]`` = index of the character holding UTF-8 byte ``b`` (plus one entry for the end)."""
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    is_start = (raw & 0xC0) != 0x80
    m = np.cumsum(is_start, dtype=np.int64) - 1
    return np.append(m, len(text)) if len(raw) else np.array([0], dtype=np.int64)


def bytes_piece(raw: bytes) -> str:
    """Readable form of a token's bytes: valid UTF-8 as text, stray bytes as ``<0xNN>``."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        for size in (1, 2, 3, 4):
            try:
                out.append(raw[i:i + size].decode("utf-8"))
                i += size
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(f"<0x{raw[i]:02X}>")
            i += 1
    return "".join(out)


class ArenaTokenizer:
    """Common base: ``encode`` (with spans), ``encode_ids`` (raw), ``decode``, metadata."""

    algorithm = "BPE"
    library = ""

    def __init__(self, arena_id: str) -> None:
        self.arena_id = arena_id
        self._lock = threading.Lock()

    # -- interface -----------------------------------------------------------------------------
    def encode(self, text: str, add_special_tokens: bool = True) -> Encoding:
        raise NotImplementedError

    def encode_ids(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """The raw library call (what the benchmark compares the arena view against)."""
        raise NotImplementedError

    def decode(self, ids: Sequence[int]) -> str:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def special_tokens(self) -> list[str]:
        return []

    def id_to_piece(self, token_id: int) -> str:
        raise NotImplementedError

    def unknown_ids(self) -> set[int]:
        return set()


# ------------------------------------------------------------------------------------------------
# Hugging Face `tokenizers` (also what transformers' fast tokenizers run on)
# ------------------------------------------------------------------------------------------------

def _state(component: Any) -> str:
    """A tokenizers component as JSON text (``str()`` panics on long regexes cut mid-character)."""
    return component.__getstate__().decode() if component is not None else ""


class HFTokenizer(ArenaTokenizer):
    """A ``tokenizers.Tokenizer`` (loaded from tokenizer.json or taken from a transformers
    tokenizer's ``backend_tokenizer``). Offsets come from the library."""

    library = "tokenizers"

    def __init__(self, arena_id: str, backend: Any, *, chat_source: Callable[[], Any] | None = None,
                 hf_tokenizer: Any = None) -> None:
        super().__init__(arena_id)
        backend.no_truncation()
        backend.no_padding()
        self.backend = backend
        self._hf = hf_tokenizer
        self._chat_source = chat_source
        model = backend.model
        kind = type(model).__name__
        pre = _state(backend.pre_tokenizer)
        if kind == "WordPiece":
            self.algorithm = "WordPiece"
        elif kind == "Unigram":
            self.algorithm = "SentencePiece (Unigram)"
        elif kind == "BPE" and "ByteLevel" not in pre and getattr(model, "byte_fallback", False):
            self.algorithm = "SentencePiece-style BPE (byte fallback)"
        elif kind == "BPE" and ("ByteLevel" in pre or "ByteLevel" in _state(backend.decoder)):
            self.algorithm = "byte-level BPE"
        else:
            self.algorithm = kind
        self._added = {t.content: i for i, t in backend.get_added_tokens_decoder().items() if t.special}
        unk = getattr(model, "unk_token", None)
        self._unk = {backend.token_to_id(unk)} - {None} if unk else set()

    def encode(self, text: str, add_special_tokens: bool = True) -> Encoding:
        enc = self.backend.encode(text, add_special_tokens=add_special_tokens)
        ids = enc.ids
        offsets = enc.offsets
        mask = enc.special_tokens_mask
        specials = set(self._added.values())
        special = [bool(m) or i in specials for i, m in zip(ids, mask)]
        starts = [o[0] for o in offsets]
        ends = [o[1] for o in offsets]
        for k, s in enumerate(special):
            if s and mask[k]:  # inserted by the post-processor: covers no text
                ends[k] = starts[k]
        return Encoding(self.arena_id, text, ids, starts, ends, special, self.id_to_piece)

    def encode_ids(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.backend.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=False)

    @property
    def vocab_size(self) -> int:
        return int(self.backend.get_vocab_size(with_added_tokens=True))

    def special_tokens(self) -> list[str]:
        return sorted(self._added, key=lambda t: self._added[t])

    def id_to_piece(self, token_id: int) -> str:
        piece = self.backend.id_to_token(int(token_id))
        return piece if piece is not None else f"<id {token_id}>"

    def unknown_ids(self) -> set[int]:
        return set(self._unk)

    def chat_tokenizer(self) -> Any:
        """The transformers tokenizer carrying the chat template (loaded on first use)."""
        with self._lock:
            if self._hf is None and self._chat_source is not None:
                self._hf = self._chat_source()
        return self._hf


# ------------------------------------------------------------------------------------------------
# tiktoken (OpenAI encodings, and Mistral's Tekken which is tiktoken-format)
# ------------------------------------------------------------------------------------------------

class TiktokenTokenizer(ArenaTokenizer):
    """A ``tiktoken.Encoding``; spans are derived from each token's byte length."""

    library = "tiktoken"
    algorithm = "byte-level BPE"

    def __init__(self, arena_id: str, encoding: Any, *, id_offset: int = 0,
                 bos_id: int | None = None, special_names: dict[int, str] | None = None) -> None:
        super().__init__(arena_id)
        self.enc = encoding
        self.id_offset = id_offset  # Tekken: ids of ranks are shifted past its special tokens
        self.bos_id = bos_id
        self._special_names = dict(special_names or {})
        for name, i in getattr(encoding, "_special_tokens", {}).items():
            self._special_names[i + id_offset] = name
        n = encoding.n_vocab
        lengths = np.zeros(n + id_offset, dtype=np.int64)
        for rank in range(n):
            if rank in encoding._special_tokens.values():
                continue
            try:
                lengths[rank + id_offset] = len(encoding.decode_single_token_bytes(rank))
            except KeyError:  # holes in a rank table
                continue
        for name, rank in encoding._special_tokens.items():
            lengths[rank + id_offset] = len(name.encode("utf-8"))
        self._lengths = lengths

    def _raw(self, text: str) -> list[int]:
        return self.enc.encode(text, allowed_special="all")

    def encode(self, text: str, add_special_tokens: bool = True) -> Encoding:
        ranks = self._raw(text)
        arr = np.asarray(ranks, dtype=np.int64) + self.id_offset
        byte_ends = np.cumsum(self._lengths[arr]) if len(arr) else np.zeros(0, dtype=np.int64)
        byte_starts = byte_ends - self._lengths[arr]
        cmap = byte_to_char_map(text)
        starts = cmap[byte_starts].tolist()
        # a token ending inside a character reaches to that character's end: tokens that share a
        # character then overlap, which is how the display knows to group them
        ends = (cmap[np.maximum(byte_ends - 1, 0)] + 1).tolist() if len(arr) else []
        ids = arr.tolist()
        specials = set(self._special_names)
        special = [i in specials for i in ids]
        if add_special_tokens and self.bos_id is not None:
            ids.insert(0, self.bos_id)
            starts.insert(0, 0)
            ends.insert(0, 0)
            special.insert(0, True)
        return Encoding(self.arena_id, text, ids, starts, ends, special, self.id_to_piece)

    def encode_ids(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ranks = self._raw(text)
        if self.id_offset:
            ranks = [r + self.id_offset for r in ranks]
        if add_special_tokens and self.bos_id is not None:
            ranks.insert(0, self.bos_id)
        return ranks

    def decode(self, ids: Sequence[int]) -> str:
        parts: list[bytes] = []
        for i in ids:
            i = int(i)
            if i in self._special_names and (i < self.id_offset or i - self.id_offset in self.enc._special_tokens.values()):
                parts.append(self._special_names[i].encode("utf-8"))
            else:
                parts.append(self.enc.decode_single_token_bytes(i - self.id_offset))
        return b"".join(parts).decode("utf-8", errors="replace")

    @property
    def vocab_size(self) -> int:
        return int(self.enc.n_vocab + self.id_offset)

    def special_tokens(self) -> list[str]:
        return [self._special_names[i] for i in sorted(self._special_names)]

    def id_to_piece(self, token_id: int) -> str:
        token_id = int(token_id)
        if token_id in self._special_names:
            return self._special_names[token_id]
        return bytes_piece(self.enc.decode_single_token_bytes(token_id - self.id_offset))


# ------------------------------------------------------------------------------------------------
# sentencepiece (Mistral's .model files)
# ------------------------------------------------------------------------------------------------

class SentencePieceTokenizer(ArenaTokenizer):
    """A ``sentencepiece.SentencePieceProcessor``; spans from its immutable proto."""

    library = "sentencepiece"

    def __init__(self, arena_id: str, processor: Any, *, add_bos: bool = True) -> None:
        super().__init__(arena_id)
        self.sp = processor
        self.add_bos = add_bos
        from sentencepiece import sentencepiece_model_pb2 as pb  # noqa: F401  (protobuf present)

        model_type = {1: "Unigram", 2: "BPE", 3: "word", 4: "char"}
        try:
            proto = pb.ModelProto()
            proto.ParseFromString(processor.serialized_model_proto())
            kind = model_type.get(int(proto.trainer_spec.model_type), "BPE")
            fallback = bool(proto.trainer_spec.byte_fallback)
        except Exception:  # noqa: BLE001 - metadata only
            kind, fallback = "BPE", True
        self.algorithm = f"SentencePiece ({kind}{', byte fallback' if fallback else ''})"
        n = processor.get_piece_size()
        self._control = [i for i in range(n) if processor.is_control(i) or processor.is_unknown(i)]

    def encode(self, text: str, add_special_tokens: bool = True) -> Encoding:
        proto = self.sp.encode(text, out_type="immutable_proto")
        ids, starts, ends = [], [], []
        for p in proto.pieces:
            ids.append(p.id)
            starts.append(p.begin)
            ends.append(p.end)
        special = [False] * len(ids)
        if add_special_tokens and self.add_bos:
            ids.insert(0, self.sp.bos_id())
            starts.insert(0, 0)
            ends.insert(0, 0)
            special.insert(0, True)
        return Encoding(self.arena_id, text, ids, starts, ends, special, self.id_to_piece)

    def encode_ids(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.sp.encode(text, add_bos=add_special_tokens and self.add_bos)

    def decode(self, ids: Sequence[int]) -> str:
        return self.sp.decode([int(i) for i in ids])

    @property
    def vocab_size(self) -> int:
        return int(self.sp.get_piece_size())

    def special_tokens(self) -> list[str]:
        return [self.sp.id_to_piece(i) for i in self._control]

    def id_to_piece(self, token_id: int) -> str:
        return self.sp.id_to_piece(int(token_id))

    def unknown_ids(self) -> set[int]:
        return {self.sp.unk_id()}

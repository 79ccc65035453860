"""PEFT explained by numbers (book §12.2): what full fine-tuning, LoRA, adapters and prompt tuning
train, counted from the real model's weight shapes by one function each.

The book's GPT-3 example (96 blocks, a 12,288 × 12,288 matrix per block, LoRA rank 8) goes through
the same :func:`lora_matrix` as the real models. The book says the two 12,288 × 8 factors hold
"≈ 98K" parameters; that is *one* factor (12,288 × 8 = 98,304): the two together hold 196,608.
:func:`gpt3_example` shows the honest breakdown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

#: LoRA targets in the book's recipes (ch. 12: all seven projections of a Llama-style block).
BOOK_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoraMatrix:
    """LoRA on one ``d_out × d_in`` weight: ΔW = B·A with B (d_out × r) and A (r × d_in)."""

    d_out: int
    d_in: int
    rank: int

    @property
    def full(self) -> int:
        return self.d_out * self.d_in

    @property
    def a(self) -> int:
        return self.rank * self.d_in

    @property
    def b(self) -> int:
        return self.d_out * self.rank

    @property
    def lora(self) -> int:
        return self.a + self.b

    @property
    def ratio(self) -> float:
        return self.lora / self.full if self.full else 0.0


def lora_matrix(d_out: int, d_in: int, rank: int) -> LoraMatrix:
    """The parameter counts of LoRA at ``rank`` on one ``d_out × d_in`` matrix."""
    if min(d_out, d_in, rank) < 1:
        raise ValueError("matrix sides and rank must be positive")
    return LoraMatrix(int(d_out), int(d_in), int(rank))


@dataclass(frozen=True)
class Gpt3Example:
    blocks: int
    matrix: LoraMatrix

    @property
    def full_all_blocks(self) -> int:
        return self.blocks * self.matrix.full

    @property
    def lora_all_blocks(self) -> int:
        return self.blocks * self.matrix.lora

    def lines(self) -> list[str]:
        m = self.matrix
        return [
            f"One {m.d_out:,} × {m.d_in:,} block matrix: {m.full:,} parameters (book: ≈150M).",
            f"LoRA rank {m.rank}: A is {m.rank} × {m.d_in:,} = {m.a:,}; B is {m.d_out:,} × {m.rank} = {m.b:,}; "
            f"together {m.lora:,} ({m.ratio:.4%} of the matrix).",
            f"The book says the two {m.d_out:,} × {m.rank} matrices are ≈98K parameters: that is one of them "
            f"({m.a:,}); the two hold {m.lora:,}.",
            f"Over {self.blocks} blocks: {self.full_all_blocks:,} full vs {self.lora_all_blocks:,} LoRA.",
        ]


def gpt3_example(rank: int = 8, side: int = 12_288, blocks: int = 96) -> Gpt3Example:
    """The book's GPT-3 175B example, computed by :func:`lora_matrix`."""
    return Gpt3Example(blocks, lora_matrix(side, side, rank))


@dataclass
class PeftCounts:
    """Trainable parameters of each way to fine-tune one model (all computed from its shapes)."""

    model: str
    total: int
    hidden: int
    layers: int
    rank: int
    targets: list[str]
    lora: int
    lora_matrices: int
    adapter_bottleneck: int
    adapters: int
    prompt_tokens: int
    prompt_tuning: int
    prefix_tuning: int
    head: int = 0
    trainable_now: int | None = None  # what the run actually trains (requires_grad), when known
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[list[Any]]:
        """[method, trainable parameters, share of the model] for the table."""
        def share(n: int) -> str:
            return f"{n / self.total:.3%}" if self.total else "–"
        rows = [["full fine-tuning", self.total, "100%"],
                [f"LoRA r={self.rank} on {', '.join(self.targets)} ({self.lora_matrices} matrices)", self.lora,
                 share(self.lora)],
                [f"adapters (Houlsby: 2 per block, bottleneck {self.adapter_bottleneck})", self.adapters,
                 share(self.adapters)],
                [f"prompt tuning ({self.prompt_tokens} soft tokens × {self.hidden})", self.prompt_tuning,
                 share(self.prompt_tuning)],
                [f"prefix tuning ({self.prompt_tokens} tokens, keys and values at {self.layers} layers)",
                 self.prefix_tuning, share(self.prefix_tuning)]]
        if self.trainable_now is not None:
            rows.append(["this run (requires_grad)", self.trainable_now, share(self.trainable_now)])
        return rows


def _linears(model: Any) -> Iterable[tuple[str, int, int]]:
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            yield name, module.out_features, module.in_features


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters of a torch model (shared tensors counted once)."""
    seen: set[int] = set()
    trainable = total = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return trainable, total


def peft_counts(model: Any, rank: int = 8, targets: Sequence[str] = ("q_proj", "v_proj"),
                adapter_bottleneck: int = 64, prompt_tokens: int = 20, name: str = "") -> PeftCounts:
    """Count full fine-tuning vs LoRA (``rank`` on the Linear layers whose name ends with one of
    ``targets``), Houlsby adapters, prompt and prefix tuning on ``model`` (a torch module)."""
    config = getattr(model, "config", None)
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "d_model", 0) or 0)
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layer", 0) or 0)
    _, total = count_parameters(model)
    lora = matrices = 0
    for lname, d_out, d_in in _linears(model):
        if any(lname.split(".")[-1] == t or lname.endswith("." + t) for t in targets):
            lora += lora_matrix(d_out, d_in, rank).lora
            matrices += 1
    m = adapter_bottleneck
    adapters = layers * 2 * (hidden * m + m + m * hidden + hidden)  # down (W+b) and up (W+b), twice a block
    prompt = prompt_tokens * hidden
    prefix = prompt_tokens * 2 * layers * hidden  # a key and a value vector per token and layer
    counts = PeftCounts(name or type(model).__name__, total, hidden, layers, rank, list(targets), lora, matrices,
                        m, adapters, prompt_tokens, prompt, prefix)
    if not matrices:
        counts.notes.append(f"No Linear layer named {', '.join(targets)} in this model: LoRA would train nothing.")
    return counts


def lora_targets(model: Any, wanted: Sequence[str]) -> list[str]:
    """The names in ``wanted`` that exist as Linear layers in ``model`` (clear error when none)."""
    from core.errors import LabError

    have = {name.split(".")[-1] for name, _, _ in _linears(model)}
    found = [t for t in wanted if t in have]
    if not found:
        raise LabError(f"None of {', '.join(wanted)} is a Linear layer of this model (it has: "
                       f"{', '.join(sorted(have)[:12])}).")
    return found

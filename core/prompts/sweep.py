"""Sampling sweep: one prompt over a grid of temperature × top_p, N samples per cell (§6.1.3)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

from core.errors import LabError
from core.generation import Message, SamplingParams

MAX_CELLS = 16
MAX_GENERATIONS = 32


def parse_values(text: str, name: str, low: float, high: float, low_open: bool = True) -> list[float]:
    values = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = float(part)
        except ValueError:
            raise LabError(f"{name}: {part!r} is not a number.") from None
        if (v <= low if low_open else v < low) or v > high:
            raise LabError(f"{name} values must be in {'(' if low_open else '['}{low:g}, {high:g}]; got {v:g}.")
        values.append(v)
    if not values:
        raise LabError(f"Give at least one {name} value (comma-separated).")
    return list(dict.fromkeys(values))


@dataclass
class Cell:
    temperature: float
    top_p: float
    samples: list[str] = field(default_factory=list)

    @property
    def distinct(self) -> int:
        return len({s.strip() for s in self.samples})


@dataclass
class Sweep:
    temperatures: list[float]
    top_ps: list[float]
    n: int
    cells: list[Cell]
    done: int = 0
    finished: bool = False

    def cell(self, t: float, p: float) -> Cell:
        return next(c for c in self.cells if c.temperature == t and c.top_p == p)


def sweep(backend: Any, messages: Sequence[Message], temperatures: Sequence[float], top_ps: Sequence[float],
          n: int, params: SamplingParams, stop: threading.Event | None = None) -> Iterator[Sweep]:
    """Yield the grid after each text piece. Sample ``j`` of every cell uses seed ``seed + j``, so
    cells differ only by their temperature and top_p."""
    if n < 1:
        raise LabError("Samples per cell must be at least 1.")
    cells = [Cell(t, p) for t in temperatures for p in top_ps]
    if len(cells) > MAX_CELLS:
        raise LabError(f"The grid has {len(cells)} cells; the lab allows at most {MAX_CELLS}.")
    if len(cells) * n > MAX_GENERATIONS:
        raise LabError(f"{len(cells)} cells × {n} samples = {len(cells) * n} generations; the lab allows "
                       f"at most {MAX_GENERATIONS}. Use fewer values or samples.")
    state = Sweep(list(temperatures), list(top_ps), n, cells)
    base = params.seed if params.seed is not None else 0
    for cell in cells:
        for j in range(n):
            if stop is not None and stop.is_set():
                state.finished = True
                yield state
                return
            p = replace(params, greedy=False, temperature=cell.temperature, top_p=cell.top_p, seed=base + j)
            cell.samples.append("")
            for piece in backend.stream(messages, p, stop=stop):
                cell.samples[-1] += piece
                yield state
            state.done += 1
            yield state
    state.finished = True
    yield state

"""The book the lab makes interactive: *Hands-On Large Language Models* (Alammar & Grootendorst,
O'Reilly 2024), its chapters and their public companion notebooks."""
from __future__ import annotations

from dataclasses import dataclass

NOTEBOOKS = "https://github.com/HandsOnLLM/Hands-On-Large-Language-Models/tree/main"


@dataclass(frozen=True)
class Chapter:
    """A chapter of *Hands-On Large Language Models* and the section an app or panel makes interactive."""

    number: int
    title: str
    section: str = ""

    @property
    def url(self) -> str:
        """The chapter's public companion notebooks."""
        return f"{NOTEBOOKS}/chapter{self.number:02d}"

    @property
    def label(self) -> str:
        return f"Ch. {self.number} · {self.title}" + (f" · {self.section}" if self.section else "")

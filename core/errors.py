"""Errors whose message is meant for the person using the lab.

Core code raises :class:`LabError` (or a subclass) with one clear, specific sentence; the UI layer
turns it into a visible message (``gr.Warning``/``gr.Error``) instead of a stack trace.
"""
from __future__ import annotations


class LabError(Exception):
    """An error with a message that can be shown to a user as it is."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ModelUnavailable(LabError):
    """A model (or its offline asset) cannot be loaded in the current mode."""


class InvalidUpload(LabError):
    """A file given by the user was rejected by validation."""


class BackendError(LabError):
    """A generation backend (local model or remote API) failed."""

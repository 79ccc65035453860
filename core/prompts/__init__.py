"""Prompt Lab's core (book ch. 3, 6, 7): rendered prompts and tokens, next-token candidates,
sampling sweeps, prompting techniques, grammar-constrained output and the book's examples.

Submodules (all light to import; torch/transformers/llguidance load inside functions):
``view`` (prompt tokens, next-token view from logits or a server's logprobs), ``messages`` (chat
messages from UI values), ``sweep``, ``techniques``, ``constrained`` (grammars, validation, and how a
constraint is applied per backend), ``examples`` (the book's examples and their known answers).
Backends, sampling and timing come from :mod:`core.generation` (``run`` only re-exports them).
"""

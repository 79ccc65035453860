"""Prompt Lab's core (book ch. 3, 6, 7): rendered prompts and tokens, next-token candidates,
sampling sweeps, prompting techniques, grammar-constrained output and the book's examples.

Submodules (all light to import; torch/transformers/llguidance load inside functions):
``view`` (prompt tokens, next-token view), ``sweep``, ``techniques``, ``constrained``,
``examples``, ``run`` (backends from UI values, timed streaming).
"""

"""Pairwise Eval Arena (book ch. 12): battles, durable votes, Elo / Bradley–Terry leaderboards.

Modules: :mod:`ratings` (pure rating math), :mod:`contestants` (config), :mod:`battles` (two
answers streamed side by side), :mod:`store` (votes in SQLite), :mod:`judge` (LLM-as-judge),
:mod:`export` (JSONL/CSV/DPO), :mod:`sink` (durable copy of votes on Spaces).
"""

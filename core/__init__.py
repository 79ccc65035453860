"""LLM Lab core library: plain Python, no UI imports, everything testable without a browser.

Importing ``core`` applies offline mode to the environment first (``HF_HUB_OFFLINE`` …), before any
Hugging Face library can be imported and read it.
"""
from core.settings import apply_offline_env

apply_offline_env()

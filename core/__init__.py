"""LLM Lab core library: plain Python, no UI imports, everything testable without a browser."""

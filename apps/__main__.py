"""``python -m apps [--host H] [--port P] [--openai-base-url URL]``: serve the whole lab."""
from apps import manifests
from apps.lab import build_lab
from apps.launch import serve

if __name__ == "__main__":
    serve(build_lab, manifests(), description="LLM Lab: all apps in one server")

"""``python -m apps [--host H] [--port P]``: serve the whole lab."""
from apps.lab import build_lab
from apps.ui import serve

if __name__ == "__main__":
    lab, css = build_lab()
    serve(lab, css, description="LLM Lab: all apps in one server")

"""``python -m apps.arena [--host H] [--port P]``: serve this app alone at /."""
from apps.launch import serve_app

if __name__ == "__main__":
    serve_app("arena")

"""``python -m apps [--host H] [--port P] [--openai-base-url URL]`` (or ``llm-lab``): serve the whole lab."""
from apps import manifests
from apps.lab import build_lab
from apps.launch import serve


def main() -> None:
    serve(build_lab, manifests(), description="LLM Lab: all apps in one server")


if __name__ == "__main__":
    main()

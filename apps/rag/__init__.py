"""📚 RAG Chat: chat with your documents, every retrieval step visible (book ch. 8)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="rag", title="RAG Chat", emoji="📚",
    tagline="Chat with your documents, with every retrieval step visible and cited.",
    chapters=(Chapter(8, "Semantic Search and Retrieval-Augmented Generation", "§8.2 retrieval, §8.3 RAG"),),
    models=("embed-minilm", "embed-bge-small", "embed-gte-small", "chat-smollm2-135m", "chat-phi3-mini",
            "chat-qwen2.5-0.5b"),
    assets=("minilm", "smollm2"),
    builtin_assets=("rag",),
    startup="apps.rag.app:startup",
)

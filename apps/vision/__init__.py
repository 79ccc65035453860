"""🖼️ Multimodal Captioner: zero-shot labels, image–text similarity, captions (book ch. 9)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="vision", title="Multimodal Captioner", emoji="🖼️",
    tagline="Zero-shot image labels, image–text similarity, captions and questions.",
    chapters=(Chapter(9, "Multimodal Large Language Models", "§9.2 CLIP, §9.3 BLIP-2"),),
    models=("clip-vit-b32", "blip-caption-base", "blip2-opt-2.7b", "efficientnet-lite0", "embed-minilm",
            "chat-smollm2-135m"),
    assets=("efficientnet-lite0", "imagenet-info", "minilm", "smollm2"),
    builtin_assets=("vision",),
)

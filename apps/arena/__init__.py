"""⚔️ Pairwise Eval Arena: blind battles, durable votes, leaderboards (book ch. 12)."""
from apps.manifest import Chapter, Manifest

MANIFEST = Manifest(
    slug="arena", title="Pairwise Eval Arena", emoji="⚔️",
    tagline="Anonymous side-by-side battles, durable votes, a leaderboard with confidence intervals.",
    chapters=(Chapter(12, "Fine-Tuning Generation Models", "§12.4 evaluating generative models"),),
    models=("chat-smollm2-135m", "chat-smollm2-360m", "chat-qwen2.5-0.5b", "chat-qwen2.5-1.5b", "chat-phi3-mini",
            "chat-tinyllama"),
    assets=("smollm2",),
    builtin_assets=("arena",),
    startup="apps.arena.app:startup",
)

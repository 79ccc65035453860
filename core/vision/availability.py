"""What really runs here: the Captioner offers only these choices, and says why the rest is off."""
from __future__ import annotations

from core.gpu import device
from core.settings import get_settings

from .service import BLIP, CAPTION_MODELS

OFFLINE_CAPTIONER = "offline-smollm2"
OFFLINE_CAPTIONER_LABEL = "SmolLM2-135M from EfficientNet-Lite0 classes (offline stand-in, not BLIP)"


def caption_choices() -> tuple[list[tuple[str, str]], str, str]:
    """``(choices, default, why the others are missing)`` for the captioning-model dropdown."""
    if get_settings().mode != "hub":
        return ([(OFFLINE_CAPTIONER_LABEL, OFFLINE_CAPTIONER)], OFFLINE_CAPTIONER,
                "BLIP base and BLIP-2 need hub mode (LLM_LAB_MODE=hub): no package ships their weights.")
    if device() != "cuda":
        return ([(CAPTION_MODELS[BLIP], BLIP)], BLIP,
                "BLIP-2 OPT-2.7b needs a GPU (it runs under ZeroGPU on the Space); BLIP base runs on the CPU.")
    return [(label, key) for key, label in CAPTION_MODELS.items()], BLIP, ""


def vqa_reason() -> str:
    """Why *Ask about the image* is off here ('' when BLIP-2 can answer)."""
    if get_settings().mode != "hub":
        return ("Off in offline mode: answering questions about an image needs BLIP-2 (hub mode on a GPU, "
                "e.g. a ZeroGPU Space). Nothing offline can look at the image and answer, so none is made up.")
    if device() != "cuda":
        return "Off on this server: BLIP-2 OPT-2.7b needs a GPU (it runs under ZeroGPU on the Space)."
    return ""

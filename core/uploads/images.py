"""Image uploads: :func:`open_image` (size and pixel limits, EXIF rotation, first frame, RGB)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InvalidUpload
from core.settings import get_settings
from core.uploads.files import check_file


@dataclass(frozen=True)
class LoadedImage:
    image: Any  # PIL.Image.Image, RGB, EXIF-rotated, downscaled to the side limit
    name: str
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()


def open_image(file: Any) -> LoadedImage:
    """Open an uploaded image safely: size and pixel limits, EXIF rotation, first frame, RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    limits = get_settings().limits
    if hasattr(file, "size") and hasattr(file, "mode") and hasattr(file, "convert"):  # already a PIL image
        img, name = file, "image"
    else:
        checked = check_file(file, {"image"})
        name = checked.name
        Image.MAX_IMAGE_PIXELS = limits.image_pixels
        try:
            img = Image.open(checked.path)  # reads the header only: the size is known before decoding
            width, height = img.size
            if width * height > limits.image_pixels:
                img.close()
                raise InvalidUpload(f"'{name}' has {width}×{height} pixels; the limit is {limits.image_pixels:,}.")
            if img.format == "JPEG" and max(img.size) > 2 * limits.image_side:
                img.draft("RGB", (limits.image_side, limits.image_side))  # decode at a reduced scale
            img.load()
        except Image.DecompressionBombError:
            raise InvalidUpload(f"'{name}' is too large in pixels (limit {limits.image_pixels:,}).") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            detail = str(exc).replace(str(checked.path), name)  # PIL names the server path
            raise InvalidUpload(f"'{name}' is not a readable image (it may be truncated or corrupted): "
                                f"{detail[:120]}") from None
    notes: list[str] = []
    width, height = img.size
    if width * height > limits.image_pixels:
        raise InvalidUpload(f"'{name}' has {width}×{height} pixels; the limit is {limits.image_pixels:,}.")
    if getattr(img, "is_animated", False):
        notes.append(f"'{name}' is animated; using its first frame.")
        img.seek(0)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - broken EXIF must not block the image
        notes.append("Ignored unreadable EXIF orientation data.")
    if img.mode not in ("RGB",):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            background = Image.new("RGB", img.size, (255, 255, 255))
            rgba = img.convert("RGBA")
            background.paste(rgba, mask=rgba.split()[-1])
            img = background
            notes.append("Transparent areas were filled with white.")
        elif img.mode in ("I;16", "I;16B", "I;16L", "I"):
            import numpy as np

            arr = np.asarray(img, dtype=np.float64)
            span = float(arr.max() - arr.min()) or 1.0
            img = Image.fromarray(((arr - arr.min()) / span * 255).astype("uint8")).convert("RGB")
            notes.append("Converted a 16-bit image to 8-bit.")
        else:
            img = img.convert("RGB")
    if max(img.size) > limits.image_side:
        img = img.copy()
        img.thumbnail((limits.image_side, limits.image_side))
        notes.append(f"Downscaled from {width}×{height} to {img.size[0]}×{img.size[1]}.")
    return LoadedImage(image=img, name=name, original_size=(width, height), notes=tuple(notes))

"""Images for the Multimodal Captioner: built-in photos and safe loading of uploads.

Built-in photos come from scikit-image's installed data (no download; see
``assets/vision/SOURCES.md`` for their origin and licences). Uploads go through
:func:`core.uploads.open_image` (bomb guard, EXIF rotation, first GIF frame, CMYK/16-bit/grayscale/
alpha → RGB, downscaling) so every code path downstream receives a plain RGB ``PIL.Image``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from core.errors import InvalidUpload

#: How many images one request may carry (keeps the CPU path responsive).
MAX_IMAGES = 12


@dataclass(frozen=True)
class BuiltinPhoto:
    key: str
    title: str
    loader: str  # skimage.data function name
    credit: str


BUILTINS: tuple[BuiltinPhoto, ...] = (
    BuiltinPhoto("cat", "Chelsea the cat", "chelsea", "Stefan van der Walt, CC0"),
    BuiltinPhoto("coffee", "Coffee cup", "coffee", "Rachel Michetti, CC0"),
    BuiltinPhoto("astronaut", "Astronaut Eileen Collins", "astronaut", "NASA, public domain"),
    BuiltinPhoto("rocket", "Falcon 9 launch", "rocket", "SpaceX, public domain (CC0)"),
    BuiltinPhoto("motorcycle", "Motorcycle", "stereo_motorcycle", "Middlebury 2014 stereo dataset"),
    BuiltinPhoto("cameraman", "Cameraman (grayscale)", "camera", "Lav Varshney, CC0"),
)


@dataclass
class InputImage:
    """One image ready for the models (RGB, downscaled), with where it came from."""

    name: str
    image: Any  # PIL.Image.Image (RGB)
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()
    source: str = "upload"  # "upload" | "builtin" | "webcam"


def builtin_keys() -> list[str]:
    return [b.key for b in BUILTINS]


def builtin_choices() -> list[tuple[str, str]]:
    return [(b.title, b.key) for b in BUILTINS]


def _builtin_array(key: str) -> Any:
    from core.cache import budget_cache

    photo = next((b for b in BUILTINS if b.key == key), None)
    if photo is None:
        raise InvalidUpload(f"Unknown built-in photo {key!r}; choose one of {', '.join(builtin_keys())}.")

    def read() -> Any:
        import skimage.data as data

        value = getattr(data, photo.loader)()
        if isinstance(value, tuple):  # stereo_motorcycle → (left, right, disparity)
            value = value[0]
        return value

    return budget_cache("vision.builtin_photos").get_or_create(key, read)


def builtin_image(key: str) -> InputImage:
    """A built-in photo as an RGB PIL image (scikit-image's bundled data, works offline)."""
    from PIL import Image

    arr = _builtin_array(key)
    img = Image.fromarray(arr)
    notes: tuple[str, ...] = ()
    if img.mode != "RGB":
        notes = (f"'{key}' is {img.mode} ({'grayscale' if img.mode == 'L' else img.mode}); converted to RGB.",)
        img = img.convert("RGB")
    return InputImage(name=key, image=img, original_size=img.size, notes=notes, source="builtin")


def builtin_path(key: str) -> Path:
    """A PNG file of a built-in photo (for examples, tests and the browser)."""
    from core.settings import get_settings

    folder = get_settings().cache_dir / "vision-builtins"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.png"
    if not path.exists():
        tmp = path.with_suffix(".partial.png")
        builtin_image(key).image.save(tmp)
        tmp.replace(path)
    return path


def _file_values(files: Any) -> list[Any]:
    if files is None:
        return []
    if isinstance(files, (list, tuple)):
        out: list[Any] = []
        for f in files:
            # gr.Gallery values are (path, caption) pairs or dicts with an "image" entry
            if isinstance(f, (list, tuple)) and f:
                f = f[0]
            if isinstance(f, dict) and "image" in f and isinstance(f["image"], (dict, str)):
                f = f["image"]
            if f:
                out.append(f)
        return out
    return [files]


def load_inputs(builtins: Iterable[str] | None = None, files: Any = None, webcam: Any = None,
                *, require: bool = True) -> list[InputImage]:
    """Gather the images of one request: chosen built-ins, uploaded files and a webcam shot.

    Raises :class:`~core.errors.InvalidUpload` for unreadable files (naming the file) and when
    no image was given at all (``require``).
    """
    from core.uploads import open_image

    images: list[InputImage] = [builtin_image(k) for k in (builtins or [])]
    for value in _file_values(files):
        loaded = open_image(value)
        images.append(InputImage(loaded.name, loaded.image, loaded.original_size, loaded.notes, "upload"))
    if webcam is not None and webcam != "":
        loaded = open_image(webcam)
        images.append(InputImage("webcam", loaded.image, loaded.original_size, loaded.notes, "webcam"))
    if require and not images:
        raise InvalidUpload("No image given: pick a built-in photo, upload an image or take a webcam shot.")
    if len(images) > MAX_IMAGES:
        raise InvalidUpload(f"{len(images)} images given; the limit is {MAX_IMAGES} per request.")
    # make names unique so charts and tables can tell the images apart
    seen: dict[str, int] = {}
    for item in images:
        base = item.name
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            item.name = f"{base} ({seen[base]})"
    return images


def all_notes(images: Sequence[InputImage]) -> list[str]:
    return [note for item in images for note in item.notes]


def parse_list(text: str | Sequence[str] | None, *, what: str = "label", limit: int = 20,
               max_chars: int = 200) -> list[str]:
    """Split user text into items (one per line, or comma-separated on one line); deduplicate."""
    if text is None:
        items: list[str] = []
    elif isinstance(text, str):
        lines = [ln for ln in text.replace("\r", "").split("\n")]
        if len([ln for ln in lines if ln.strip()]) <= 1:
            items = text.replace("\n", ",").split(",")
        else:
            items = lines
    else:
        items = list(text)
    out: list[str] = []
    for item in items:
        clean = " ".join(str(item).split())
        if clean and clean.lower() not in {o.lower() for o in out}:
            out.append(clean[:max_chars])
    if not out:
        raise InvalidUpload(f"The {what} list is empty: type at least one {what} (one per line or comma-separated).")
    if len(out) > limit:
        raise InvalidUpload(f"{len(out)} {what}s given; the limit is {limit}.")
    return out


MAX_TEMPLATE_CHARS = 300


def apply_template(template: str, labels: Sequence[str]) -> list[str]:
    """Fill ``{}`` in a prompt template with each label ("a photo of a {}" → "a photo of a cat")."""
    template = (template or "").strip()
    if not template:
        template = "{}"
    if "{}" not in template:
        raise InvalidUpload(f"The template '{template[:80]}' has no {{}} placeholder; write it like "
                            "'a photo of a {}' so each label can be put in.")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise InvalidUpload(f"The template is {len(template):,} characters long; keep it under "
                            f"{MAX_TEMPLATE_CHARS} (it is one short sentence around the label).")
    if template.count("{}") > 1:
        raise InvalidUpload("The template has more than one {} placeholder; use exactly one.")
    return [template.replace("{}", label) for label in labels]


def thumbnail(image: Any, side: int = 320) -> Any:
    img = image.copy()
    img.thumbnail((side, side))
    return img


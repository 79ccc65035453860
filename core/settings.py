"""One place that reads the environment.

Every other module asks :func:`get_settings` instead of reading ``os.environ`` itself, so tests can
swap settings with :func:`override_settings` and the README can document every knob in one table.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal, Mapping, MutableMapping

Mode = Literal["offline", "hub"]


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """Input limits, shared by every upload path and model call (documented in the README)."""

    upload_mb: int = 25  # per file
    csv_rows: int = 50_000
    csv_columns: int = 500  # wider CSVs are refused before parsing (column guessing is per column)
    pdf_pages: int = 300
    pdf_content_mb: int = 10  # decoded page content pypdf parses per file (pure Python, ~0.1–1 MB/s)
    image_pixels: int = 40_000_000  # decompression-bomb guard; larger images are refused
    image_side: int = 2048  # accepted images are downscaled to this longest side
    text_chars: int = 1_000_000  # pasted text
    prompt_tokens: int = 4_096
    max_new_tokens: int = 1_024
    jobs_per_session: int = 2  # concurrent heavy jobs per browser session
    request_timeout_s: float = 60.0  # remote API calls
    train_max_steps: int = 200  # optimizer steps of one fine-tuning run (core/training)
    train_max_examples: int = 2_000  # training examples one fine-tuning run may use


@dataclass(frozen=True)
class OpenAISettings:
    """Defaults for an OpenAI-compatible endpoint; users can override them per session in the UI."""

    base_url: str = ""
    api_key: str = field(default="", repr=False)  # never printed
    model: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.api_key)


@dataclass(frozen=True)
class Settings:
    """Everything the lab reads from the environment."""

    mode: Mode = "offline"
    cache_dir: Path = Path.home() / ".cache" / "llm-lab"
    data_dir: Path = Path.home() / ".local" / "share" / "llm-lab"
    openai: OpenAISettings = OpenAISettings()
    limits: Limits = Limits()
    model_memory_mb: int = 6_000  # LRU budget for loaded models (approximate sizes)
    memory_mb: int = 8_000  # one LRU budget for everything kept in memory (core/cache.py): models, embeddings, runs
    embed_backend: str = "torch"  # sentence embeddings: torch | onnx (core/embeddings.py; see docs/BENCHMARKS.md)
    queue_max_size: int = 128
    concurrency: int = 4  # default concurrency limit for light events
    heavy_concurrency: int = 2  # concurrency of the shared "heavy" (model) pool
    torch_threads: int = 0  # 0 = torch default
    engine: str = "auto"  # local generation: auto (llama.cpp on CPU when installed) | llamacpp | transformers
    engine_threads: int = 0  # threads per llama.cpp instance; 0 = cores / instances
    engine_instances: int = 0  # llama.cpp instances per model (concurrent generations); 0 = heavy_concurrency
    malloc_arenas: int = 2  # LLM_LAB_MALLOC_ARENAS: glibc malloc arenas for the server (core/heap.py); 0 = glibc default
    job_nice: int = 10  # LLM_LAB_JOB_NICE: model jobs run this much nicer than light requests (core/priority.py)
    on_spaces: bool = False
    zero_gpu: bool = False
    server_name: str = "127.0.0.1"  # GRADIO_SERVER_NAME, as Gradio itself reads it
    server_port: int = 7860  # GRADIO_SERVER_PORT
    gpu_pickle_check: bool = False  # LLM_LAB_GPU_PICKLE_CHECK=1: check GPU-call arguments pickle (Space tests)
    topics_warmup: bool = True  # LLM_LAB_TOPICS_WARMUP=0 skips the numba warm-up at start
    cpu_fallback_mb: int = 2_000  # LLM_LAB_CPU_FALLBACK_MB: chat models up to this size run on the CPU when ZeroGPU's quota is out
    models_warmup: bool = True  # LLM_LAB_MODELS_WARMUP=0: don't load the default chat engine and embedder at start
    classifiers_warmup: bool = True  # LLM_LAB_CLASSIFIERS_WARMUP=0: don't train the zoo's task model at start
    arena_contestants: str = ""  # LLM_LAB_ARENA_CONTESTANTS: a contestants JSON file (default: assets/arena)
    arena_bucket_dir: str = ""  # LLM_LAB_ARENA_BUCKET_DIR: mirror votes into a mounted Storage Bucket
    arena_dataset: str = ""  # LLM_LAB_ARENA_DATASET: push votes to this Hub dataset repo
    arena_push_minutes: float = 5.0  # LLM_LAB_ARENA_PUSH_MINUTES
    hf_token: str = field(default="", repr=False)  # HF_TOKEN (dataset sink, deploys); never printed

    @property
    def offline(self) -> bool:
        return self.mode == "offline"

    @property
    def assets_dir(self) -> Path:
        return self.cache_dir / "assets"

    @property
    def models_dir(self) -> Path:
        """Converted, fast-loading copies of offline models."""
        return self.cache_dir / "models"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lab.sqlite3"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from environment variables (``LLM_LAB_*``, ``OPENAI_*``, Spaces')."""
    env = os.environ if environ is None else environ
    on_spaces = bool(env.get("SPACE_ID"))
    mode_raw = env.get("LLM_LAB_MODE", "").strip().lower()
    mode: Mode = "hub" if mode_raw == "hub" or (not mode_raw and on_spaces) else "offline"
    cache_dir = Path(env.get("LLM_LAB_CACHE", "") or Path.home() / ".cache" / "llm-lab").expanduser()
    data_dir = Path(env.get("LLM_LAB_DATA", "") or Path.home() / ".local" / "share" / "llm-lab").expanduser()
    limits = Limits(
        upload_mb=_env_int(env, "LLM_LAB_UPLOAD_MB", Limits.upload_mb),
        csv_rows=_env_int(env, "LLM_LAB_CSV_ROWS", Limits.csv_rows),
        csv_columns=_env_int(env, "LLM_LAB_CSV_COLUMNS", Limits.csv_columns),
        pdf_pages=_env_int(env, "LLM_LAB_PDF_PAGES", Limits.pdf_pages),
        pdf_content_mb=_env_int(env, "LLM_LAB_PDF_CONTENT_MB", Limits.pdf_content_mb),
        image_pixels=_env_int(env, "LLM_LAB_IMAGE_PIXELS", Limits.image_pixels),
        image_side=_env_int(env, "LLM_LAB_IMAGE_SIDE", Limits.image_side),
        text_chars=_env_int(env, "LLM_LAB_TEXT_CHARS", Limits.text_chars),
        prompt_tokens=_env_int(env, "LLM_LAB_PROMPT_TOKENS", Limits.prompt_tokens),
        max_new_tokens=_env_int(env, "LLM_LAB_MAX_NEW_TOKENS", Limits.max_new_tokens),
        jobs_per_session=_env_int(env, "LLM_LAB_JOBS_PER_SESSION", Limits.jobs_per_session),
        request_timeout_s=_env_float(env, "LLM_LAB_REQUEST_TIMEOUT", Limits.request_timeout_s),
        train_max_steps=_env_int(env, "LLM_LAB_TRAIN_MAX_STEPS", Limits.train_max_steps),
        train_max_examples=_env_int(env, "LLM_LAB_TRAIN_MAX_EXAMPLES", Limits.train_max_examples),
    )
    return Settings(
        mode=mode,
        cache_dir=cache_dir,
        data_dir=data_dir,
        openai=OpenAISettings(
            base_url=env.get("OPENAI_BASE_URL", "").strip(),
            api_key=env.get("OPENAI_API_KEY", "").strip(),
            model=env.get("OPENAI_MODEL", "").strip(),
        ),
        limits=limits,
        model_memory_mb=_env_int(env, "LLM_LAB_MODEL_MEMORY_MB", Settings.model_memory_mb),
        memory_mb=_env_int(env, "LLM_LAB_MEMORY_MB", Settings.memory_mb),
        embed_backend=env.get("LLM_LAB_EMBED_BACKEND", "").strip().lower() or Settings.embed_backend,
        queue_max_size=_env_int(env, "LLM_LAB_QUEUE_MAX", Settings.queue_max_size),
        concurrency=_env_int(env, "LLM_LAB_CONCURRENCY", Settings.concurrency),
        heavy_concurrency=_env_int(env, "LLM_LAB_HEAVY_CONCURRENCY", Settings.heavy_concurrency),
        torch_threads=_env_int(env, "LLM_LAB_TORCH_THREADS", 0),
        engine=(env.get("LLM_LAB_ENGINE", "").strip().lower().replace(".", "").replace("-", "").replace("_", "")
                or "auto"),
        engine_threads=_env_int(env, "LLM_LAB_ENGINE_THREADS", 0),
        engine_instances=_env_int(env, "LLM_LAB_ENGINE_INSTANCES", 0),
        malloc_arenas=_env_int(env, "LLM_LAB_MALLOC_ARENAS", Settings.malloc_arenas),
        job_nice=_env_int(env, "LLM_LAB_JOB_NICE", Settings.job_nice),
        on_spaces=on_spaces,
        zero_gpu=env.get("SPACES_ZERO_GPU", "").lower() == "true",
        server_name=env.get("GRADIO_SERVER_NAME", "").strip() or Settings.server_name,
        server_port=_env_int(env, "GRADIO_SERVER_PORT", Settings.server_port),
        gpu_pickle_check=env.get("LLM_LAB_GPU_PICKLE_CHECK", "") == "1",
        topics_warmup=env.get("LLM_LAB_TOPICS_WARMUP", "1") != "0",
        models_warmup=env.get("LLM_LAB_MODELS_WARMUP", "1") != "0",
        cpu_fallback_mb=_env_int(env, "LLM_LAB_CPU_FALLBACK_MB", Settings.cpu_fallback_mb),
        classifiers_warmup=env.get("LLM_LAB_CLASSIFIERS_WARMUP", "1") != "0",
        arena_contestants=env.get("LLM_LAB_ARENA_CONTESTANTS", "").strip(),
        arena_bucket_dir=env.get("LLM_LAB_ARENA_BUCKET_DIR", "").strip(),
        arena_dataset=env.get("LLM_LAB_ARENA_DATASET", "").strip(),
        arena_push_minutes=_env_float(env, "LLM_LAB_ARENA_PUSH_MINUTES", Settings.arena_push_minutes),
        hf_token=env.get("HF_TOKEN", "").strip(),
    )


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings (read once from the environment, then cached)."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


@contextlib.contextmanager
def override_settings(**changes: object) -> Iterator[Settings]:
    """Temporarily replace fields of the current settings (for tests)."""
    global _current
    previous = get_settings()
    _current = dataclasses.replace(previous, **changes)  # type: ignore[arg-type]
    try:
        yield _current
    finally:
        _current = previous


def config_environ() -> Mapping[str, str]:
    """The environment that ``${NAME}`` references in configuration files (the arena's contestants
    file) are expanded from: read here, like every other variable."""
    return dict(os.environ)


def set_openai_server(base_url: str | None, model: str | None = None) -> Settings:
    """The ``--openai-base-url`` / ``--openai-model`` switches: one server for every app in this
    process (the key still comes from ``OPENAI_API_KEY``)."""
    global _current
    current = get_settings()
    openai = dataclasses.replace(current.openai, base_url=(base_url or current.openai.base_url).strip(),
                                 model=(model or current.openai.model).strip())
    _current = dataclasses.replace(current, openai=openai)
    return _current


def apply_offline_env(environ: MutableMapping[str, str] | None = None) -> bool:
    """In offline mode, make the Hugging Face libraries refuse the network. Runs when ``core`` is
    first imported (``apps`` imports it before gradio), because ``huggingface_hub`` reads these
    variables once, at its own import. Returns whether offline mode was applied."""
    env = os.environ if environ is None else environ
    if load_settings(env).mode != "offline":
        return False
    set_offline_env(env)
    return True


def set_offline_env(environ: MutableMapping[str, str] | None = None) -> None:
    """Tell the Hugging Face libraries (hub, transformers, datasets) to refuse the network."""
    env = os.environ if environ is None else environ
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    env.setdefault("HF_DATASETS_OFFLINE", "1")


def reset_settings() -> None:
    """Forget cached settings so the next :func:`get_settings` re-reads the environment."""
    global _current
    _current = None

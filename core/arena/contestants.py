"""Arena contestants from a JSON configuration (``assets/arena/contestants.json`` by default).

A contestant is a backend plus its settings: a catalogue chat model under a system prompt and a
sampling preset (``backend: local``), or one model behind an OpenAI-compatible endpoint
(``backend: openai``). Strings may reference environment variables as ``${NAME}``; an OpenAI entry
whose base URL or model resolves to empty is skipped. Offline, only entries marked ``offline``
are offered (the Hub models would all be the same SmolLM2 stand-in, which would make a leaderboard
of them meaningless). ``LLM_LAB_ARENA_CONTESTANTS`` points to another configuration file.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from core.errors import LabError
from core.settings import config_environ, get_settings

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "assets" / "arena" / "contestants.json"
PROMPTS_FILE = DEFAULT_CONFIG.parent / "prompts.json"
_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")
_SAMPLING_KEYS = {"max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "seed", "greedy"}


@dataclass(frozen=True)
class Contestant:
    id: str
    label: str
    backend: str  # "local" | "openai"
    model: str
    system_prompt: str | None = None
    sampling: Mapping[str, Any] = field(default_factory=dict)
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    offline: bool = False
    identity: tuple[str, ...] = ()
    battles: bool = True  # False: only offered as an LLM judge, never drawn into battles

    def make_backend(self) -> Any:
        """The engine for this contestant, from the lab's one factory (llama.cpp on CPU by default)."""
        from core.generation import LOCAL, REMOTE, make_backend

        if self.backend == "local":
            return make_backend(LOCAL, self.model, system_prompt=self.system_prompt)
        return make_backend(REMOTE, base_url=self.base_url, model=self.model, api_key=self.api_key,
                            system_prompt=self.system_prompt)

    def params(self, max_new_tokens: int, seed: int | None = None) -> Any:
        from core.generation import SamplingParams

        values = {k: v for k, v in self.sampling.items() if k in _SAMPLING_KEYS}
        values["max_new_tokens"] = max_new_tokens
        if seed is not None and "seed" not in values:
            values["seed"] = seed
        return SamplingParams(**values)

    def describe(self) -> str:
        """One line for the reveal and the 'contestants' table."""
        bits = []
        if self.backend == "local":
            from core import catalogue

            try:
                bits.append(catalogue.get(self.model).display(get_settings().mode))
            except KeyError:
                bits.append(self.model)
        else:
            bits.append(f"{self.model} @ {self.base_url}")
        if self.system_prompt:
            bits.append(f"system: “{self.system_prompt[:60]}{'…' if len(self.system_prompt) > 60 else ''}”")
        preset = ", ".join(f"{k}={v}" for k, v in self.sampling.items() if k in _SAMPLING_KEYS)
        if preset:
            bits.append(preset)
        return " · ".join(bits)


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _ENV.sub(lambda m: env.get(m.group(1), ""), value)
    return value


def parse_config(data: Mapping[str, Any], env: Mapping[str, str] | None = None,
                 offline: bool | None = None) -> list[Contestant]:
    """Contestants usable in the current mode, in configuration order."""
    env = config_environ() if env is None else env
    offline = get_settings().offline if offline is None else offline
    items = data.get("contestants")
    if not isinstance(items, list):
        raise LabError("The arena configuration needs a 'contestants' list.")
    out: list[Contestant] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping) or not item.get("id"):
            raise LabError("Every arena contestant needs an 'id'.")
        cid = str(item["id"])
        if cid in seen:
            raise LabError(f"Arena contestant id {cid!r} appears twice.")
        seen.add(cid)
        backend = item.get("backend", "local")
        if backend not in ("local", "openai"):
            raise LabError(f"Arena contestant {cid!r}: backend must be 'local' or 'openai'.")
        c = Contestant(
            id=cid, label=_expand(item.get("label", cid), env) or cid, backend=backend,
            model=_expand(item.get("model", ""), env), system_prompt=item.get("system_prompt") or None,
            sampling=dict(item.get("sampling", {})), base_url=_expand(item.get("base_url", ""), env),
            api_key=_expand(item.get("api_key", ""), env), offline=bool(item.get("offline", False)),
            identity=tuple(item.get("identity", ())), battles=bool(item.get("battles", True)))
        if backend == "openai" and not (c.base_url and c.model):
            continue  # endpoint not configured here
        if offline and not c.offline:
            continue
        if backend == "local":
            from core import catalogue

            try:
                if not catalogue.get(c.model).available_in("offline" if offline else "hub"):
                    continue
            except KeyError:
                raise LabError(f"Arena contestant {cid!r}: unknown catalogue model {c.model!r}.") from None
        out.append(c)
    return out


def load_contestants(config: str | Path | Mapping[str, Any] | None = None, check: bool = True) -> list[Contestant]:
    if config is None:
        config = get_settings().arena_contestants or DEFAULT_CONFIG
    if not isinstance(config, Mapping):
        try:
            config = json.loads(Path(config).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LabError(f"Could not read the arena configuration {config}: {exc}") from None
    contestants = parse_config(config)
    if check and sum(c.battles for c in contestants) < 2:
        raise LabError("The arena needs at least two contestants available in this mode.")
    return contestants


def server_contestants(base_url: str, api_key: str = "", only: str = "", timeout_s: float = 10.0,
                       limit: int = 12) -> list[Contestant]:
    """One contestant per model the OpenAI-compatible server at ``base_url`` lists (``/v1/models``,
    :func:`core.generation.servers.server_models`); only model ``only`` when given. A clear
    :class:`LabError` when the server cannot be reached."""
    from core.generation.servers import server_models

    base_url = (base_url or "").strip().rstrip("/")
    if not base_url:
        return []
    ids = server_models(base_url, api_key, timeout_s, fresh=True)
    if only:
        ids = [only]  # the switch names the model: use it even if the server does not list it
    host = re.sub(r"^https?://", "", base_url).split("/", 1)[0]
    return [Contestant(id=f"server:{mid}", label=f"{mid} (server)", backend="openai", model=mid,
                       base_url=base_url, api_key=api_key, offline=True, identity=())
            for mid in ids[:limit] if host]


def configured_contestants(config: str | Path | Mapping[str, Any] | None = None) -> list[Contestant]:
    """The configured contestants plus the models of the lab's OpenAI-compatible server
    (``--openai-base-url`` / ``OPENAI_BASE_URL``), listed at start. A server that cannot be reached
    is logged and left out; the local contestants still play."""
    import logging

    local = load_contestants(config, check=False)
    server = get_settings().openai
    if not server.base_url:
        return load_contestants(config)
    try:
        remote = server_contestants(server.base_url, server.api_key, server.model)
    except LabError as exc:
        logging.getLogger(__name__).warning("arena: %s", exc)
        return local
    have = {c.id for c in local}
    return local + [c for c in remote if c.id not in have]


def example_prompts() -> list[str]:
    try:
        return list(json.loads(PROMPTS_FILE.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError):
        return []


def identity_flag(answer_a: str, answer_b: str, a: Contestant | None, b: Contestant | None) -> tuple[bool, str]:
    """Does an answer name its own model? (Chatbot Arena drops such votes: the battle was not anonymous.)"""
    for side, answer, c in (("A", answer_a, a), ("B", answer_b, b)):
        if c is None:
            continue
        low = answer.lower()
        for term in c.identity:
            if term and term.lower() in low:
                return True, f"answer {side} mentions “{term}”"
    return False, ""

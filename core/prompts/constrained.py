"""Constrained output (book §6.5.2): JSON Schema, a choice among options, or a regex.

* Local models: the constraint is **enforced during decoding** by llguidance 1.9.1 (see
  ``shared/RECIPES.md`` §2) through a small logits processor that masks every token the grammar
  does not allow at that step. Sampling settings still apply to the allowed tokens.
* OpenAI-compatible servers: JSON Schema goes through the server's JSON mode
  (``response_format``); choice and regex are asked for in the prompt and only checked afterwards.

Either way the result is validated (``json.loads`` + ``jsonschema`` / exact choice / full regex
match) and the validation is shown. llguidance is imported lazily (it is not needed to build the UI).
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from core.errors import LabError

KINDS = ("json", "choice", "regex")
KIND_LABELS = {"json": "JSON Schema", "choice": "Choice", "regex": "Regex"}


@dataclass(frozen=True)
class Constraint:
    """What the output must look like. ``spec`` is a JSON Schema (text), options (one per line or
    comma-separated) or a regex, depending on ``kind``."""

    kind: str
    spec: str

    def parsed_schema(self) -> dict[str, Any]:
        return parse_schema(self.spec)

    def options(self) -> list[str]:
        return parse_choices(self.spec)


@dataclass
class Validation:
    """The check run on the finished output."""

    ok: bool
    message: str
    value: Any = None  # the parsed JSON (json), the chosen option (choice), the match (regex)
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# parsing the user's spec (bad input → the parser's own message)
# --------------------------------------------------------------------------------------------

def parse_schema(text: str) -> dict[str, Any]:
    """Parse and check a JSON Schema; raise :class:`LabError` with the parser's message."""
    import jsonschema

    if not (text or "").strip():
        raise LabError("The JSON Schema is empty. Paste a schema such as {\"type\": \"object\", ...}.")
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabError(f"The JSON Schema is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    if not isinstance(schema, dict):
        raise LabError("The JSON Schema must be a JSON object ({...}).")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise LabError(f"Invalid JSON Schema at {where}: {exc.message}") from None
    return schema


def parse_choices(text: str) -> list[str]:
    raw = (text or "").replace("\r", "")
    parts = raw.split("\n") if "\n" in raw.strip() else raw.split(",")
    options = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
    if len(options) < 2:
        raise LabError("Give at least two options for the choice (one per line or comma-separated).")
    return options


def grammar_for(constraint: Constraint) -> str:
    """The llguidance grammar (a JSON string) for a constraint; invalid specs raise LabError."""
    import llguidance

    kind = constraint.kind
    if kind == "json":
        schema = parse_schema(constraint.spec)
        try:
            grammar = llguidance.LLMatcher.grammar_from_json_schema(
                schema, defaults={"whitespace_flexible": False})
        except Exception as exc:  # noqa: BLE001 - unsupported keyword etc.
            raise LabError(f"The grammar engine cannot use this schema: {exc}") from None
    elif kind == "choice":
        options = parse_choices(constraint.spec)
        grammar = llguidance.LLMatcher.grammar_from_lark(
            "start: " + " | ".join(json.dumps(o) for o in options))
    elif kind == "regex":
        pattern = (constraint.spec or "").strip()
        if not pattern:
            raise LabError("The regex is empty.")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LabError(f"Invalid regex: {exc}.") from None
        grammar = llguidance.LLMatcher.grammar_from_regex(pattern)
    else:
        raise LabError(f"Unknown constraint kind {kind!r}; use one of {', '.join(KINDS)}.")
    problem = llguidance.LLMatcher.validate_grammar(grammar)
    if problem:
        raise LabError("The constraint cannot be compiled: " + problem.strip().splitlines()[0])
    return grammar


# --------------------------------------------------------------------------------------------
# the logits processor (llguidance, recipe §2)
# --------------------------------------------------------------------------------------------

_LLTOK: dict[int, Any] = {}
_LLTOK_LOCK = threading.Lock()


def ll_tokenizer(tokenizer: Any, vocab_size: int) -> Any:
    """llguidance's view of a HF tokenizer, built once per tokenizer (~0.25 s)."""
    import llguidance.hf

    key = id(tokenizer)
    with _LLTOK_LOCK:
        if key not in _LLTOK:
            _LLTOK[key] = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size)
        return _LLTOK[key]


class GrammarLogitsProcessor:
    """Masks tokens the grammar forbids. Batch size 1; a new one for every ``generate()``.

    It holds only the grammar and the model name, and builds the matcher on first use, so it can
    be pickled into the ZeroGPU worker together with the other arguments of the generate call.
    """

    def __init__(self, grammar: str, model_name: str) -> None:
        self.grammar = grammar
        self.model_name = model_name
        self._matcher: Any = None
        self._mask: Any = None
        self._started = False
        self.steps = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"grammar": self.grammar, "model_name": self.model_name, "_matcher": None, "_mask": None,
                "_started": False, "steps": 0}

    def _init(self) -> None:
        import llguidance
        import llguidance.numpy as lln

        from core.loader import load

        lm = load(self.model_name)
        lltok = ll_tokenizer(lm.tokenizer, lm.model.config.vocab_size)
        self._matcher = llguidance.LLMatcher(lltok, self.grammar)
        if self._matcher.is_error():
            raise LabError("The constraint cannot be compiled: " + str(self._matcher.get_error()))
        self._mask = lln.allocate_token_bitmask(1, lltok.vocab_size)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np
        import llguidance.numpy as lln
        import torch

        if self._matcher is None:
            self._init()
        if self._started:
            self._matcher.consume_token(int(input_ids[0, -1]))
        self._started = True
        self.steps += 1
        lln.fill_next_token_bitmask(self._matcher, self._mask, 0)
        ok = np.unpackbits(self._mask.view(np.uint8), bitorder="little").astype(bool)
        n = scores.shape[-1]
        ok = np.pad(ok, (0, max(0, n - ok.size)))[:n]
        return scores.masked_fill(~torch.from_numpy(ok).to(scores.device), float("-inf"))


def logits_processor(constraint: Constraint, model_name: str) -> GrammarLogitsProcessor:
    return GrammarLogitsProcessor(grammar_for(constraint), model_name)


# --------------------------------------------------------------------------------------------
# OpenAI-compatible servers
# --------------------------------------------------------------------------------------------

def response_format(constraint: Constraint) -> dict[str, Any] | None:
    """The server-side JSON mode for a JSON Schema constraint (None for choice/regex)."""
    if constraint.kind != "json":
        return None
    return {"type": "json_schema",
            "json_schema": {"name": "lab_output", "schema": parse_schema(constraint.spec), "strict": True}}


def prompt_hint(constraint: Constraint) -> str:
    """An instruction appended to the prompt for servers that cannot enforce the constraint."""
    if constraint.kind == "json":
        return "\n\nAnswer with JSON only, matching this JSON Schema:\n" + constraint.spec.strip()
    if constraint.kind == "choice":
        return "\n\nAnswer with exactly one of: " + ", ".join(parse_choices(constraint.spec)) + "."
    return "\n\nAnswer with text that fully matches this regular expression: " + constraint.spec.strip()


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

def validate(text: str, constraint: Constraint) -> Validation:
    """Check the finished output against the constraint (what the UI shows as ✓ / ✗)."""
    out = (text or "").strip()
    if constraint.kind == "json":
        import jsonschema

        schema = parse_schema(constraint.spec)
        try:
            value = json.loads(out)
        except json.JSONDecodeError as exc:
            return Validation(False, f"Not valid JSON: {exc.msg} at character {exc.pos}.")
        validator = jsonschema.validators.validator_for(schema)(schema)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            msgs = [f"{'/'.join(str(p) for p in e.path) or '(root)'}: {e.message}" for e in errors]
            return Validation(False, f"Valid JSON, but {len(msgs)} schema error(s).", value, msgs)
        return Validation(True, "Valid JSON that matches the schema.", value)
    if constraint.kind == "choice":
        options = parse_choices(constraint.spec)
        if out in options:
            return Validation(True, f"One of the {len(options)} allowed options.", out)
        return Validation(False, f"Not one of the allowed options ({', '.join(options)}).")
    if constraint.kind == "regex":
        m = re.fullmatch(constraint.spec.strip(), out)
        if m:
            return Validation(True, "The whole output matches the regex.", out)
        return Validation(False, "The output does not fully match the regex.")
    raise LabError(f"Unknown constraint kind {constraint.kind!r}.")


# --------------------------------------------------------------------------------------------
# policy: how a constraint is applied with a given backend
# --------------------------------------------------------------------------------------------

#: The verdict format of output verification (§6.5), enforced on local models.
VERDICT = Constraint("regex", r"(VALID|INVALID)\. [A-Za-z0-9 ,'()+=\-]{1,120}\.")


def from_label(label: str, spec: str) -> Constraint:
    """A constraint from the UI's kind label ("JSON Schema", "Choice", "Regex") or kind name."""
    by_label = {v: k for k, v in KIND_LABELS.items()}
    return Constraint(by_label.get(label, label), spec)


@dataclass
class Plan:
    """How one call applies a constraint: extra ``stream`` keywords, a prompt suffix, and the sentence
    that tells the user how it was applied."""

    stream_kw: dict[str, Any]
    prompt_suffix: str
    how: str


def plan(constraint: Constraint, backend: Any, enforce: bool = True) -> Plan:
    """Local models: llguidance masks forbidden tokens; servers: JSON mode for schemas, a prompt hint
    otherwise; not enforced: free generation, checked afterwards. Bad specs raise :class:`LabError`."""
    from core.generation import LocalBackend

    if constraint.kind == "json":
        parse_schema(constraint.spec)
    elif constraint.kind == "choice":
        parse_choices(constraint.spec)
    if not enforce:
        return Plan({}, "", "Not enforced: the model generated freely; the output was only checked afterwards.")
    if isinstance(backend, LocalBackend):
        return Plan({"logits_processors": [logits_processor(constraint, backend.model_name)]}, "",
                    "Enforced during decoding by llguidance: tokens the grammar forbids were masked at every step.")
    fmt = response_format(constraint)
    if fmt:
        return Plan({"response_format": fmt}, "",
                    "Requested from the server's JSON mode (response_format json_schema); checked afterwards.")
    return Plan({}, prompt_hint(constraint),
                "Servers cannot enforce choices or regexes: the prompt asks for it and the output is checked.")


def pretty(text: str, validation: Validation) -> str:
    """Valid JSON output indented for reading; anything else as generated."""
    if validation.ok and isinstance(validation.value, (dict, list)):
        return json.dumps(validation.value, indent=2, ensure_ascii=False)
    return text

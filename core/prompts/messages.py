"""Chat messages from what the UI holds: the prompt box, the system prompt, the Chatbot history and
the examples table (one/few-shot rows)."""
from __future__ import annotations

from typing import Any

from core.errors import LabError
from core.generation import Message

ROLES = ("user", "assistant", "system")


def text_of(content: Any) -> str:
    """Chatbot content (str, or gradio 6's list of blocks) → plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", "")) if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "".join(text_of(c) for c in content)
    return ""


def history(turns: Any) -> list[Message]:
    """Chatbot history (dicts or message objects) → plain ``{"role", "content"}`` messages."""
    msgs = []
    for m in turns or []:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", None)
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", "")
        if role in ROLES:
            msgs.append({"role": role, "content": text_of(content)})
    return msgs


def build_messages(system: str, turns: Any, prompt: str, keep_chat: bool) -> list[Message]:
    """The messages sent for ``prompt``: optional system prompt, earlier turns when chatting, the prompt."""
    if not (prompt or "").strip():
        raise LabError("The prompt is empty: type something for the model to answer.")
    msgs: list[Message] = [{"role": "system", "content": system.strip()}] if (system or "").strip() else []
    if keep_chat:
        msgs += [m for m in history(turns) if m["role"] != "system"]
    msgs.append({"role": "user", "content": prompt.strip()})
    return msgs


def chat_after(turns: Any, prompt: str, keep_chat: bool) -> list[Message]:
    """The conversation to show while answering ``prompt``: earlier turns (when chatting), the prompt,
    and an empty assistant turn the stream fills."""
    earlier = history(turns) if keep_chat else []
    chat = earlier + [{"role": "user", "content": (prompt or "").strip()}, {"role": "assistant", "content": ""}]
    return [m for m in chat if m["role"] != "system"]


def example_rows(rows: Any) -> list[list[str]]:
    """The examples table (a DataFrame, gradio's ``{"data": ...}`` or a list of rows) → rows of text."""
    if rows is None:
        return []
    if hasattr(rows, "values") and hasattr(rows, "columns"):  # pandas DataFrame
        rows = rows.values.tolist()
    elif isinstance(rows, dict) and "data" in rows:
        rows = rows["data"]
    return [[str(c or "") for c in r] for r in rows]

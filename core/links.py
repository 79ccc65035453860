"""Links that reopen an app exactly as it was (issue "take it home").

Small states go in the query string (``/tokenizers?text=…&tokenizers=gpt-4,llama-3``); larger ones
(uploaded files, long texts) are stored server-side in SQLite under a short random id with an
expiry, and the link says when it expires (``/topics?s=Ab3xY9kQ``). Opening a link gives the state
back, or a clear message for an expired or malformed link — never a traceback.
"""
from __future__ import annotations

import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import LabError
from core.storage import database

#: Query strings longer than this are stored server-side (browsers and chat apps cut long URLs).
MAX_QUERY_CHARS = 1_500
MAX_STORED_BYTES = 2_000_000
DEFAULT_TTL_DAYS = 30
STATE_PARAM = "s"

MIGRATIONS = [(1, """
CREATE TABLE IF NOT EXISTS state_links (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS state_links_expires ON state_links(expires);
""")]


class LinkError(LabError):
    """A link that cannot be opened (expired, unknown or malformed)."""


@dataclass(frozen=True)
class StateLink:
    """A link to an app's state: ``path_and_query`` is relative to the lab (``tokenizers?text=…``)."""

    slug: str
    query: str
    expires: float | None = None  # epoch seconds; None for a query-string link (never expires)

    @property
    def path_and_query(self) -> str:
        return f"{self.slug}?{self.query}" if self.query else self.slug

    def url(self, base: str) -> str:
        return base.rstrip("/") + "/" + self.path_and_query

    @property
    def note(self) -> str:
        if self.expires is None:
            return "This link holds the whole state; it does not expire."
        return f"Stored on this lab's server; the link expires on {time.strftime('%Y-%m-%d', time.gmtime(self.expires))}."


def _db() -> Any:
    db = database()
    db.migrate("links", MIGRATIONS)
    return db


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def make_link(slug: str, state: Mapping[str, Any], *, ttl_days: float = DEFAULT_TTL_DAYS,
              force_stored: bool = False) -> StateLink:
    """A link for ``state`` (flat values: str, numbers, bools, lists of str). Small states become a
    query string; large ones (or ``force_stored``) are stored under a random id for ``ttl_days``."""
    flat = {k: _encode(v) for k, v in state.items() if v is not None and v != ""}
    query = urllib.parse.urlencode(flat)
    if len(query) <= MAX_QUERY_CHARS and not force_stored:
        return StateLink(slug, query)
    payload = json.dumps(dict(state), ensure_ascii=False, default=str)
    if len(payload.encode()) > MAX_STORED_BYTES:
        raise LabError(f"This state is too large to share as a link ({len(payload.encode()) / 1e6:.1f} MB); "
                       "download the results instead.")
    link_id = secrets.token_urlsafe(6)
    now = time.time()
    expires = now + ttl_days * 86400
    with _db().transaction() as conn:
        conn.execute("DELETE FROM state_links WHERE expires < ?", (now,))
        conn.execute("INSERT INTO state_links(id, slug, state, created, expires) VALUES (?, ?, ?, ?, ?)",
                     (link_id, slug, payload, now, expires))
    return StateLink(slug, urllib.parse.urlencode({STATE_PARAM: link_id}), expires)


def open_link(slug: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The state a link's query parameters describe: a stored state (``?s=ID``) or the parameters
    themselves (strings; the app parses them). ``{}`` when there is nothing to restore."""
    params = {k: v for k, v in params.items() if k not in ("__theme", "view")}
    if STATE_PARAM not in params:
        return dict(params)
    link_id = params[STATE_PARAM]
    if not isinstance(link_id, str) or not link_id or len(link_id) > 32 or not link_id.replace("-", "").replace("_", "").isalnum():
        raise LinkError("This link is malformed (its id is not one the lab makes). Ask for the link again.")
    row = _db().connect().execute("SELECT slug, state, expires FROM state_links WHERE id = ?", (link_id,)).fetchone()
    if row is None:
        raise LinkError("This link is unknown here: it was made on another lab server, or it has been cleaned up.")
    if row["slug"] != slug:
        raise LinkError(f"This link belongs to another app ({row['slug']}); open it there.")
    if row["expires"] < time.time():
        raise LinkError(f"This link expired on {time.strftime('%Y-%m-%d', time.gmtime(row['expires']))}; "
                        "its state is no longer stored.")
    try:
        state = json.loads(row["state"])
    except ValueError:
        raise LinkError("This link's stored state is damaged; it cannot be opened.") from None
    return state if isinstance(state, dict) else {}


def param_list(value: Any) -> list[str]:
    """A list parameter from a link (comma-separated in query strings, a list in stored states)."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v for v in str(value).split(",") if v]


def param_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


def param_float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default

"""SQLite storage (WAL) with versioned schema migrations.

Anything that must survive a restart (arena votes, rooms, upload metadata) goes through
:class:`Database`. Each feature owns a *namespace* of migrations, applied in order and recorded in
``schema_migrations``, so apps evolve their tables independently. Connections are per thread
(SQLite connections must not be shared across threads); WAL lets readers and one writer work at
once, and ``synchronous=FULL`` makes a committed transaction survive a killed process.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from core.settings import get_settings

Migration = tuple[int, str]  # (version, SQL script)


class Database:
    """A SQLite database file with per-thread connections and namespaced migrations."""

    def __init__(self, path: Path | str | None = None, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else get_settings().db_path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self._local = threading.local()
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "namespace TEXT NOT NULL, version INTEGER NOT NULL, "
                         "applied_at TEXT NOT NULL DEFAULT (datetime('now')), PRIMARY KEY (namespace, version))")

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (created on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None,
                                   check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error). Returns after the commit is durable."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def migrate(self, namespace: str, migrations: Sequence[Migration]) -> int:
        """Apply the not-yet-applied migrations of ``namespace`` in version order; return the version."""
        versions = [v for v, _ in migrations]
        if versions != sorted(set(versions)):
            raise ValueError(f"migrations of {namespace!r} must have strictly increasing versions")
        with self.transaction() as conn:
            done = {row[0] for row in conn.execute(
                "SELECT version FROM schema_migrations WHERE namespace = ?", (namespace,))}
            for version, script in migrations:
                if version in done:
                    continue
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations(namespace, version) VALUES (?, ?)",
                             (namespace, version))
        return self.version(namespace)

    def version(self, namespace: str) -> int:
        row = self.connect().execute("SELECT MAX(version) FROM schema_migrations WHERE namespace = ?",
                                     (namespace,)).fetchone()
        return int(row[0] or 0)

    def integrity_ok(self) -> bool:
        return self.connect().execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (sqlite3.execute runs one at a time)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


_databases: dict[Path, Database] = {}
_lock = threading.Lock()


def database(path: Path | str | None = None) -> Database:
    """The shared :class:`Database` for ``path`` (default: ``<data dir>/lab.sqlite3``)."""
    resolved = Path(path) if path is not None else get_settings().db_path
    with _lock:
        if resolved not in _databases:
            _databases[resolved] = Database(resolved)
        return _databases[resolved]

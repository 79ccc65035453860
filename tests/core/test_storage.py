import sqlite3
import threading

import pytest

from core.storage import Database, _statements, database

MIGRATIONS = [
    (1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
        "CREATE INDEX notes_body ON notes(body);"),
    (2, "ALTER TABLE notes ADD COLUMN author TEXT DEFAULT 'anon';"),
]


def test_migrations_apply_in_order_once(tmp_path):
    db = Database(tmp_path / "lab.sqlite3")
    assert db.migrate("notes", MIGRATIONS[:1]) == 1
    assert db.migrate("notes", MIGRATIONS) == 2
    assert db.migrate("notes", MIGRATIONS) == 2  # idempotent
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes(body) VALUES ('hi')")
    row = db.connect().execute("SELECT body, author FROM notes").fetchone()
    assert tuple(row) == ("hi", "anon")
    assert db.connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.integrity_ok()


def test_namespaces_are_independent(tmp_path):
    db = Database(tmp_path / "lab.sqlite3")
    db.migrate("a", [(1, "CREATE TABLE a1 (x INT);")])
    assert db.version("a") == 1 and db.version("b") == 0


def test_versions_must_increase(tmp_path):
    db = Database(tmp_path / "lab.sqlite3")
    with pytest.raises(ValueError):
        db.migrate("bad", [(2, "SELECT 1;"), (1, "SELECT 1;")])


def test_a_failed_migration_leaves_nothing_behind(tmp_path):
    db = Database(tmp_path / "lab.sqlite3")
    with pytest.raises(sqlite3.OperationalError):
        db.migrate("broken", [(1, "CREATE TABLE ok (x INT);\nCREATE TABLE ok (x INT);")])
    assert db.version("broken") == 0
    assert db.connect().execute("SELECT name FROM sqlite_master WHERE name='ok'").fetchone() is None


def test_concurrent_writers_from_threads_lose_nothing(tmp_path):
    db = Database(tmp_path / "lab.sqlite3")
    db.migrate("notes", MIGRATIONS)

    def write(n):
        for i in range(50):
            with db.transaction() as conn:
                conn.execute("INSERT INTO notes(body) VALUES (?)", (f"{n}-{i}",))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert db.connect().execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 200


def test_statement_splitter_keeps_triggers_whole():
    script = ("CREATE TABLE t (x INT);\n"
              "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\nEND;\n")
    assert len(_statements(script)) == 2


def test_shared_database_per_path(tmp_path):
    assert database(tmp_path / "a.db") is database(tmp_path / "a.db")

"""Durable copies of acknowledged votes, for hosts whose local disk does not survive a restart.

On a Hugging Face Space the container disk is ephemeral (``../shared/SPACES.md`` §4), so the
SQLite database alone cannot keep votes across restarts. Each acknowledged vote is therefore also
written, *before* the UI confirms it, to a sink:

* :class:`BucketDirSink` — a mounted storage bucket (``LLM_LAB_ARENA_BUCKET_DIR``): every vote is
  a **new small file** ``votes/<date>/<vote_id>.json`` written and closed at once (bucket mounts
  cannot append to existing objects; one file per vote also means replicas never collide).
* :class:`DatasetRepoSink` — a dataset repo through ``huggingface_hub.CommitScheduler``
  (``LLM_LAB_ARENA_DATASET=<user>/<repo>``): votes are appended (flush + fsync, under the
  scheduler's lock) to ``<run-uuid>.jsonl`` in a local folder that the scheduler pushes every few
  minutes. A restart between pushes can lose the last window (the documented limit of this
  pattern): prefer the bucket for durability, the dataset for publishing; both can be combined.

At start-up :func:`sink_from_env` restores votes found in the sink into SQLite (idempotent by
``vote_id``) and re-sends any local vote the sink lacks. Tests inject a fake ``hf_api``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Protocol

log = logging.getLogger(__name__)


class VoteSink(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...

    def read_all(self) -> list[dict[str, Any]]: ...


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BucketDirSink:
    """One JSON file per vote under a mounted directory (create, write, fsync, close)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "votes").mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        day = time.strftime("%Y-%m-%d", time.gmtime(record.get("created_at", time.time())))
        folder = self.root / "votes" / day
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{record['vote_id']}.json"
        with open(path, "x", encoding="utf-8") as fh:  # never overwrite, never append
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(folder)

    def read_all(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted((self.root / "votes").glob("*/*.json")):
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, json.JSONDecodeError):
                log.warning("arena sink: skipping unreadable %s", path)
        return out


class DatasetRepoSink:
    """Append-only JSONL in a folder pushed to a dataset repo by ``CommitScheduler``."""

    def __init__(self, folder: str | Path, repo_id: str, every: float = 5, hf_api: Any = None,
                 token: str | None = None, path_in_repo: str = "data", squash_history: bool = False) -> None:
        from huggingface_hub import CommitScheduler

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file = self.folder / f"votes-{uuid.uuid4().hex}.jsonl"  # one file per process/run
        self.scheduler = CommitScheduler(repo_id=repo_id, folder_path=self.folder, every=every,
                                         path_in_repo=path_in_repo, repo_type="dataset", private=True,
                                         token=token, hf_api=hf_api, squash_history=squash_history,
                                         allow_patterns=["*.jsonl"])
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, self.scheduler.lock:
            with open(self.file, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def read_all(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(self.folder.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        log.warning("arena sink: skipping a torn line in %s", path)
        return out

    def push_now(self, timeout: float = 60) -> Any:
        return self.scheduler.trigger().result(timeout=timeout)

    def stop(self) -> None:
        self.scheduler.stop()


class MultiSink:
    def __init__(self, sinks: Iterable[Any]) -> None:
        self.sinks = list(sinks)

    def write(self, record: dict[str, Any]) -> None:
        for s in self.sinks:
            s.write(record)

    def read_all(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for s in self.sinks:
            for r in s.read_all():
                seen.setdefault(r["vote_id"], r)
        return list(seen.values())


def resync(store: Any, sink: Any) -> tuple[int, int]:
    """Restore sink votes into SQLite and send local votes missing from the sink: (restored, sent)."""
    remote = sink.read_all()
    restored = store.import_votes(remote)
    have = {r["vote_id"] for r in remote}
    sent = 0
    for vote in store.votes(room=None):
        if vote.vote_id not in have:
            try:
                sink.write(vote.record())
                sent += 1
            except FileExistsError:
                pass
    return restored, sent


def sink_from_env(store: Any = None, environ: dict[str, str] | None = None) -> Any:
    """The sink the settings configure (None when neither a bucket nor a dataset is set);
    ``environ`` reads another environment instead (tests)."""
    from core.settings import get_settings, load_settings

    settings = get_settings() if environ is None else load_settings(environ)
    sinks: list[Any] = []
    if settings.arena_bucket_dir:
        sinks.append(BucketDirSink(settings.arena_bucket_dir))
    if settings.arena_dataset:
        folder = get_settings().data_dir / "arena-dataset"
        sinks.append(DatasetRepoSink(folder, settings.arena_dataset, every=settings.arena_push_minutes,
                                     token=settings.hf_token or None))
    if not sinks:
        return None
    sink = sinks[0] if len(sinks) == 1 else MultiSink(sinks)
    if store is not None:
        try:
            restored, sent = resync(store, sink)
            log.info("arena sink: restored %d votes, re-sent %d", restored, sent)
        except Exception:  # noqa: BLE001 - the arena still works from the local database
            log.exception("arena sink: resync failed")
    return sink

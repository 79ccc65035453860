"""Durable sink (fake uploader), judge parsing and position bias, exports, the battle service."""
from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from core.arena import export, judge
from core.arena.battles import Arena
from core.arena.contestants import identity_flag, parse_config
from core.arena.sink import BucketDirSink, DatasetRepoSink, resync
from core.arena.store import ArenaStore
from core.errors import LabError
from core.storage import Database
from tests.fake_openai import FakeOpenAI


class FakeHfApi:
    """Stands in for huggingface_hub.HfApi: records commits instead of uploading."""

    def __init__(self) -> None:
        self.remote: dict[str, bytes] = {}
        self.commits = 0
        self._pool = ThreadPoolExecutor(1)

    def create_repo(self, repo_id: str, **kw: Any) -> Any:
        assert kw.get("repo_type") == "dataset"
        return SimpleNamespace(repo_id=repo_id)

    def create_commit(self, repo_id: str, operations: list, **kw: Any) -> Any:
        for op in operations:
            fh = op.path_or_fileobj
            self.remote[op.path_in_repo] = fh.read() if hasattr(fh, "read") else Path(fh).read_bytes()
        self.commits += 1
        return SimpleNamespace(oid=str(self.commits))

    def run_as_future(self, fn: Any, *args: Any) -> Future:
        return self._pool.submit(fn, *args)

    def super_squash_history(self, **kw: Any) -> None:
        pass


@pytest.fixture
def store(tmp_path: Path) -> ArenaStore:
    return ArenaStore(Database(tmp_path / "arena.sqlite3"))


def voted(store: ArenaStore, n: int) -> list[dict]:
    out = []
    for i in range(n):
        t = store.create_battle(f"prompt {i}", "x", "y")
        store.complete_battle(t, f"answer a {i}", f"answer b {i}!")
        out.append(store.record_vote(t, ["model_a", "model_b", "tie"][i % 3]).record())
    return out


def test_bucket_sink_survives_restart(tmp_path: Path, store: ArenaStore):
    sink = BucketDirSink(tmp_path / "bucket")
    records = voted(store, 4)
    for r in records:
        sink.write(r)
    with pytest.raises(FileExistsError):  # never overwrites
        sink.write(records[0])
    # "restart": a fresh container with an empty database, same bucket
    fresh = ArenaStore(Database(tmp_path / "after-restart.sqlite3"))
    restored, sent = resync(fresh, BucketDirSink(tmp_path / "bucket"))
    assert (restored, sent) == (4, 0)
    assert {v.vote_id for v in fresh.votes(None)} == {r["vote_id"] for r in records}


def test_dataset_sink_pushes_with_commit_scheduler(tmp_path: Path, store: ArenaStore):
    api = FakeHfApi()
    sink = DatasetRepoSink(tmp_path / "outbox", "someone/arena-votes", every=60, hf_api=api)
    try:
        records = voted(store, 3)
        threads = [threading.Thread(target=sink.write, args=(r,)) for r in records]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sink.push_now()
        (path, data), = api.remote.items()
        assert path.startswith("data/votes-") and path.endswith(".jsonl")
        pushed = [json.loads(line) for line in data.decode().splitlines()]
        assert {r["vote_id"] for r in pushed} == {r["vote_id"] for r in records}
        sink.push_now()  # nothing new: no empty commit
        assert api.commits == 1
        # a vote missing from the sink (written while it was down) is re-sent by resync
        extra = voted(store, 1)[0]
        assert resync(store, sink) == (0, 1)
        sink.push_now()
        assert extra["vote_id"] in next(iter(api.remote.values())).decode()
    finally:
        sink.stop()


def test_judge_parsing_and_position_bias():
    assert judge.parse_verdict("blah [[A]] no wait [[B]]") == "B"
    assert judge.parse_verdict("I cannot decide") == "error"
    assert judge.combine("A", "B") == ("A", "model_a", True)  # swapped order picked the same answer
    assert judge.combine("A", "A") == ("B", "inconsistent", False)  # always the first: position bias
    assert judge.combine("C", "C") == ("C", "tie", True)
    with FakeOpenAI(reply="Assistant A is clearly better. [[A]]") as server:
        from core.generation import OpenAIBackend, SamplingParams

        j = judge.judge_pair(OpenAIBackend(server.base_url, "judge"), "q", "one", "two",
                             SamplingParams(max_new_tokens=32, greedy=True))
        assert j.final == "inconsistent" and not j.consistent
        first = server.requests[0]["messages"][1]["content"]
        second = server.requests[1]["messages"][1]["content"]
        assert first.index("one") < first.index("two") and second.index("two") < second.index("one")
    rows = [{"verdict_ab": "A", "verdict_ba": "A", "final": "model_a", "human": "model_a"},
            {"verdict_ab": "A", "verdict_ba": "B", "final": "inconsistent", "human": "model_b"},
            {"verdict_ab": "C", "verdict_ba": "C", "final": "tie", "human": "tie (bothbad)"}]
    ag = judge.agreement(rows)
    assert ag.judged == 3 and ag.consistent_rate == pytest.approx(2 / 3)
    assert ag.first_position_rate == pytest.approx(3 / 4)  # 4 decisive single-order verdicts, 3 picked the first shown
    assert ag.agreement == pytest.approx(2 / 3) and ag.agreement_decisive == 1.0


def test_exports(store: ArenaStore):
    voted(store, 6)
    votes = store.votes()
    lines = export.votes_jsonl(votes).splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["winner"] == "model_a"
    csv_text = export.votes_csv(votes)
    assert csv_text.splitlines()[0].startswith("vote_id,battle_id") and len(csv_text.splitlines()) == 7
    assert "\n" not in csv_text.splitlines()[1]  # one line per vote
    t = store.create_battle("\t=HYPERLINK(\"http://x\")", "x", "y")
    store.complete_battle(t, "\r=1+1", "-2+3")
    store.record_vote(t, "model_a")
    row = next(r for r in csv.DictReader(io.StringIO(export.votes_csv(store.votes()))) if r["answer_b"] == "'-2+3")
    assert row["prompt"].startswith("'\t=") and row["answer_a"].startswith("'\r=") and row["len_a"] == "5"
    dpo = export.dpo_records(votes)
    assert len(dpo) == 4  # ties dropped
    assert dpo[0] == {**dpo[0], "prompt": "prompt 0", "chosen": "answer a 0", "rejected": "answer b 0!"}
    assert dpo[1]["chosen"] == "answer b 1!"


def test_identity_flag():
    cs = parse_config({"contestants": [
        {"id": "p", "backend": "local", "model": "chat-smollm2-135m", "offline": True, "identity": ["SmolLM"]},
        {"id": "q", "backend": "local", "model": "chat-smollm2-135m", "offline": True, "identity": ["Qwen"]}]},
        offline=True)
    assert identity_flag("I am smollm, made by HF", "hi", cs[0], cs[1]) == (True, "answer A mentions “SmolLM”")
    assert identity_flag("I am Qwen", "hello", cs[0], cs[1]) == (False, "")  # only its *own* name counts


def test_config_mode_filtering():
    cfg = {"contestants": [
        {"id": "off", "backend": "local", "model": "chat-smollm2-135m", "offline": True},
        {"id": "hub", "backend": "local", "model": "chat-phi3-mini"},
        {"id": "api", "backend": "openai", "base_url": "${ARENA_TEST_URL}", "model": "m", "offline": True}]}
    assert [c.id for c in parse_config(cfg, env={}, offline=True)] == ["off"]
    assert [c.id for c in parse_config(cfg, env={"ARENA_TEST_URL": "http://x/v1"}, offline=False)] == ["off", "hub", "api"]
    with pytest.raises(LabError, match="twice"):
        parse_config({"contestants": [{"id": "a"}, {"id": "a"}]}, offline=True)


def test_arena_streams_both_sides_and_reveals(tmp_path: Path):
    long = " ".join(f"w{i}" for i in range(40))
    with FakeOpenAI(reply=long) as s1, FakeOpenAI(reply="short answer") as s2:
        cs = parse_config({"contestants": [
            {"id": "long", "label": "Long", "backend": "openai", "base_url": s1.base_url, "model": "m1", "offline": True},
            {"id": "short", "label": "Short", "backend": "openai", "base_url": s2.base_url, "model": "m2", "offline": True}]},
            offline=True)
        arena = Arena(cs, store=ArenaStore(Database(tmp_path / "a.sqlite3")), max_new_tokens=32,
                      votes_per_minute=3, seed=1)
        seen_left = set()
        for _ in range(4):
            ups = list(arena.stream("Tell me something", session="s"))
            final = ups[-1]
            assert final.ok and final.names == ("", "")  # anonymous: no names while voting
            assert {final.left.text, final.right.text} == {long, "short answer"}
            seen_left.add(final.left.text)
            assert not any(u.finished for u in ups[:-1])
        assert len(seen_left) == 2  # left/right order is random
        res = arena.vote(final.token, "model_a", session="s")
        assert {res.label_a, res.label_b} == {"Long", "Short"}
        with pytest.raises(LabError, match="already has a vote"):
            arena.vote(final.token, "model_b", session="s")
        regen = list(arena.stream("", session="s", token=final.token))[-1]
        b = arena.store.battle(regen.token)
        old = arena.store.battle(final.token)
        assert (b.model_a, b.model_b, b.prompt) == (old.model_a, old.model_b, old.prompt) and b.id != old.id
        arena.vote(regen.token, "tie", session="s")
        with pytest.raises(LabError, match="Too many votes"):
            arena.vote(list(arena.stream("again", session="s"))[-1].token, "tie", session="s")
        named = list(arena.stream("Say something", mode="named", model_a="short", model_b="long", session="t"))[-1]
        assert named.names == ("Short", "Long") and named.left.text == "short answer"
    with pytest.raises(LabError, match="Type a question"):
        list(arena.stream("   "))
    with pytest.raises(LabError, match="greeting"):
        list(arena.stream("Hello!"))


def test_default_config_offline_and_hub():
    from core.arena.contestants import DEFAULT_CONFIG, example_prompts

    data = json.loads(DEFAULT_CONFIG.read_text())
    offline = parse_config(data, env={}, offline=True)
    assert len(offline) >= 4 and all(c.backend == "local" and c.model == "chat-smollm2-135m" for c in offline)
    assert len({(c.system_prompt, tuple(sorted(c.sampling.items()))) for c in offline}) == len(offline)
    hub = parse_config(data, env={"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_MODEL": "llama3"},
                       offline=False)
    models = {c.model for c in hub}
    assert {"chat-phi3-mini", "chat-qwen2.5-0.5b", "chat-qwen2.5-1.5b", "chat-tinyllama", "chat-smollm2-360m",
            "llama3"} <= models
    assert example_prompts()


def test_leaderboard_excludes_flagged_and_builds_figures(store: ArenaStore):
    from core.arena import leaderboard

    for i in range(12):
        t = store.create_battle(f"q{i}", "x", "y" if i % 2 else "z")
        store.complete_battle(t, "a" * (10 + i), "b" * 20)
        store.record_vote(t, "model_a" if i % 3 else "model_b", flag=(i < 3, "answer A mentions “X”" if i < 3 else ""))
    votes = store.votes()
    board = leaderboard.compute(votes, str.upper, rounds=50)
    assert board.n_votes == 9 and board.n_excluded == 3
    assert {r.label for r in board.rows} == {"X", "Y", "Z"} and board.rows[0].lower <= board.rows[0].bt <= board.rows[0].upper
    full = leaderboard.compute(votes, include_flagged=True, style_control=True, k=16, rounds=50)
    assert full.n_votes == 12 and full.length_coef is not None and full.k == 16
    assert full.counts.sum() == 24 and full.stability.shape[1] == 3
    figs = leaderboard.figures(full)
    assert len(figs) == 4 and all(f.to_dict()["data"] for f in figs)
    empty = leaderboard.compute([], rounds=10)
    assert empty.rows == [] and len(leaderboard.figures(empty)) == 4


def test_one_switch_lists_the_server_models_as_contestants(tmp_path: Path):
    """``python -m apps --openai-base-url URL [--openai-model M]`` → the server's models join the local ones."""
    from apps.launch import apply_args, parse_args
    from core.arena.contestants import configured_contestants, server_contestants
    from core.settings import get_settings, override_settings

    with FakeOpenAI(reply="From the server.", models=("llama3.2:1b", "qwen2.5:0.5b")) as server:
        with override_settings():
            apply_args(parse_args(["--openai-base-url", server.base_url]))
            assert get_settings().openai.base_url == server.base_url
            cs = configured_contestants()
            ids = [c.id for c in cs]
            assert "server:llama3.2:1b" in ids and "server:qwen2.5:0.5b" in ids
            assert any(c.backend == "local" for c in cs)  # plus the local ones
            arena = Arena(cs, store=ArenaStore(Database(tmp_path / "a.sqlite3")), max_new_tokens=8)
            a = arena.contestant("server:qwen2.5:0.5b")
            assert a.make_backend().generate([{"role": "user", "content": "hi"}]) == "From the server."
            apply_args(parse_args(["--openai-base-url", server.base_url, "--openai-model", "qwen2.5:0.5b"]))
            assert [c.model for c in configured_contestants() if c.backend == "openai"] == ["qwen2.5:0.5b"]
        assert server_contestants("") == []
    with pytest.raises(LabError, match="is the server running"):
        server_contestants(server.base_url, timeout_s=1)  # stopped server: a clear message

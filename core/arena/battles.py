"""A battle: one prompt, two contestants answering side by side, one vote.

:class:`Arena` ties the pieces together for the UI and the API: it draws two contestants (random
left/right), streams both answers *concurrently* (one thread per side, pieces merged through a
queue so both columns fill at once), stores the finished battle, and takes the vote — rate-limited
per session, validated and committed by :class:`~core.arena.store.ArenaStore`, copied to the
durable sink, and only then acknowledged with the names revealed.
"""
from __future__ import annotations

import contextvars
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from core.arena import access
from core.arena.contestants import Contestant, configured_contestants, identity_flag
from core.arena.store import DEFAULT_ROOM, VOTE_LABELS, ArenaStore, RateLimiter, Vote, get_store
from core.errors import LabError
from core.settings import get_settings

log = logging.getLogger(__name__)

MIN_PROMPT_CHARS = 2
MAX_PROMPT_CHARS = 4_000


@dataclass
class Side:
    text: str = ""
    done: bool = False
    error: str = ""
    ttft_s: float | None = None
    latency_s: float | None = None
    pieces: int = 0


@dataclass
class BattleUpdate:
    """One streaming step: both columns' text so far."""

    token: str
    left: Side
    right: Side
    finished: bool = False
    mode: str = "anonymous"
    names: tuple[str, str] = ("", "")  # filled only in named mode
    note: str = ""  # e.g. why a regenerated battle has a new pair or shows names
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.finished and not (self.left.error or self.right.error or self.stopped)


@dataclass
class VoteResult:
    vote: Vote
    label_a: str
    label_b: str
    detail_a: str
    detail_b: str
    message: str
    counts: dict[str, int] = field(default_factory=dict)


GREETINGS = {"hi", "hello", "hey", "hola", "yo", "hallo", "bonjour", "ciao", "你好", "您好", "test", "hello world"}


def check_prompt(prompt: str) -> str:
    text = (prompt or "").strip()
    if len(text) < MIN_PROMPT_CHARS:
        raise LabError("Type a question or an instruction for the two contestants first.")
    if text.lower().strip(" !.?,;:~。！？") in GREETINGS:
        raise LabError("A bare greeting tells the two models apart very little (in July 2023, 0.55% of "
                       "Chatbot Arena prompts were just 'hello'/'hi'). Ask something they can differ on.")
    if len(text) > MAX_PROMPT_CHARS:
        raise LabError(f"The prompt is {len(text):,} characters; the arena accepts at most {MAX_PROMPT_CHARS:,}.")
    return text


class Arena:
    """The arena service (one per process; thread-safe)."""

    def __init__(self, contestants: Sequence[Contestant] | None = None, store: ArenaStore | None = None,
                 sink: Any = None, max_new_tokens: int = 192, votes_per_minute: int = 20,
                 battles_per_minute: int = 10, seed: int | None = None, rooms: Any = None) -> None:
        self.contestants = list(contestants) if contestants is not None else configured_contestants()
        self.pool = [c for c in self.contestants if c.battles]
        if len(self.pool) < 2:
            raise LabError("The arena needs at least two contestants that take part in battles.")
        self.by_id = {c.id: c for c in self.contestants}
        self.store = store or get_store()
        if rooms is None:
            from core.rooms import get_rooms

            rooms = get_rooms(self.store.db.path)
        self.rooms = rooms
        self.sink = sink
        self.max_new_tokens = max_new_tokens
        self.vote_limit = RateLimiter(votes_per_minute, 60.0, "votes")
        self.battle_limit = RateLimiter(battles_per_minute, 60.0, "battles")
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    # -- choosing contestants ----------------------------------------------------------------
    def pick_pair(self, avoid: frozenset[str] = frozenset()) -> tuple[Contestant, Contestant]:
        """Two different contestants, uniformly at random, in random left/right order (never the
        pair ``avoid`` when the pool has another one)."""
        with self._rng_lock:
            while True:
                a, b = self._rng.sample(self.pool, 2)
                if len(self.pool) < 3 or frozenset((a.id, b.id)) != avoid:
                    return a, b

    def contestant(self, cid: str) -> Contestant:
        try:
            return self.by_id[cid]
        except KeyError:
            raise LabError(f"Unknown contestant {cid!r}.") from None

    def label(self, cid: str) -> str:
        c = self.by_id.get(cid)
        return c.label if c else cid

    # -- battles -------------------------------------------------------------------------------
    def start(self, prompt: str, room: str = DEFAULT_ROOM, session: str = "", mode: str = "anonymous",
              model_a: str | None = None, model_b: str | None = None) -> tuple[str, Contestant, Contestant]:
        prompt = check_prompt(prompt)
        room = access.for_play(self.rooms, room)
        if mode == "named":
            if not model_a or not model_b:
                raise LabError("Pick the two contestants to compare.")
            if model_a == model_b:
                raise LabError("Pick two different contestants.")
            a, b = self.contestant(model_a), self.contestant(model_b)
        else:
            a, b = self.pick_pair()
        self.battle_limit.check(session)
        token = self.store.create_battle(prompt, a.id, b.id, room=room, session=session, mode=mode,
                                         meta={"max_new_tokens": self.max_new_tokens,
                                               "sampling_a": dict(a.sampling), "sampling_b": dict(b.sampling)})
        return token, a, b

    def stream(self, prompt: str, room: str = DEFAULT_ROOM, session: str = "", mode: str = "anonymous",
               model_a: str | None = None, model_b: str | None = None,
               token: str | None = None, stop: threading.Event | None = None) -> Iterator[BattleUpdate]:
        """Start (or, with ``token``, re-run) a battle and stream both answers; ``stop`` (default: the
        current job's stop event) ends both sides."""
        note = ""
        if token:
            old = self.store.battle(token)
            token, a, b, note = self._restart(old, session)
        else:
            token, a, b = self.start(prompt, room, session, mode, model_a, model_b)
        battle = self.store.battle(token)
        names = (a.label, b.label) if battle.mode == "named" else ("", "")
        if stop is None:
            from core.jobs import stop_event

            stop = stop_event()
        yield from self._run(token, battle.prompt, a, b, battle.mode, names, note, stop)

    def _restart(self, old: Any, session: str) -> tuple[str, Contestant, Contestant, str]:
        """The same prompt again. Same pair while the names are hidden; once a vote revealed them an
        anonymous re-run draws a new pair (or, with only two contestants, becomes a labelled named
        battle) — a new anonymous battle with a known pair would not be anonymous."""
        room = access.for_play(self.rooms, old.room)
        mode, note = old.mode, ""
        if old.voted and old.mode == "anonymous":
            if len(self.pool) >= 3:
                a, b = self.pick_pair(avoid=frozenset((old.model_a, old.model_b)))
                note = "The names of the last pair were revealed by your vote: this round has a new anonymous pair."
            else:
                a, b = self.contestant(old.model_a), self.contestant(old.model_b)
                mode = "named"
                note = ("Only two contestants and your vote revealed them: this re-run is a named battle "
                        "(names shown; it counts only on the board that includes named votes).")
        else:
            a, b = self.contestant(old.model_a), self.contestant(old.model_b)
        self.battle_limit.check(session)
        token = self.store.create_battle(old.prompt, a.id, b.id, room=room, session=session, mode=mode,
                                         meta={"regenerated_from": old.id, "max_new_tokens": self.max_new_tokens})
        return token, a, b, note

    def _run(self, token: str, prompt: str, a: Contestant, b: Contestant, mode: str,
             names: tuple[str, str], note: str = "", user_stop: threading.Event | None = None) -> Iterator[BattleUpdate]:
        sides = [Side(), Side()]
        user_stop = user_stop or threading.Event()
        q: queue.Queue[tuple[int, str, Any]] = queue.Queue()
        stop = threading.Event()
        seed = random.randrange(1 << 30)
        messages = [{"role": "user", "content": prompt}]
        t0 = time.perf_counter()

        def worker(i: int, c: Contestant) -> None:
            try:
                backend = c.make_backend()
                for piece in backend.stream(messages, c.params(self.max_new_tokens, seed), stop=stop):
                    q.put((i, "piece", piece))
                    if stop.is_set():
                        break
                q.put((i, "done", None))
            except LabError as exc:
                q.put((i, "error", str(exc)))
            except Exception as exc:  # noqa: BLE001 - shown in that column only
                log.exception("arena contestant %s failed", c.id)
                q.put((i, "error", f"{type(exc).__name__}"))

        # each worker runs in a copy of this request's context (ZeroGPU attributes GPU time through contextvars)
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(worker, i, c), daemon=True)
                   for i, c in enumerate((a, b))]
        for t in threads:
            t.start()
        pending = 2
        last_yield = 0.0
        try:
            while pending:
                if user_stop.is_set():
                    break
                try:
                    i, kind, value = q.get(timeout=0.5)
                except queue.Empty:
                    continue
                side = sides[i]
                now = time.perf_counter()
                if kind == "piece":
                    if side.ttft_s is None:
                        side.ttft_s = now - t0
                    side.text += value
                    side.pieces += 1
                else:
                    side.done = True
                    side.latency_s = now - t0
                    if kind == "error":
                        side.error = value
                    pending -= 1
                if kind != "piece" or now - last_yield > 0.08:
                    last_yield = now
                    yield BattleUpdate(token, _copy(sides[0]), _copy(sides[1]), False, mode, names, note)
        finally:
            stop.set()
        if user_stop.is_set():
            yield BattleUpdate(token, sides[0], sides[1], True, mode, names, note, stopped=True)
            return
        if not (sides[0].error or sides[1].error):
            self.store.complete_battle(token, sides[0].text, sides[1].text, meta={
                "ttft_a": sides[0].ttft_s, "ttft_b": sides[1].ttft_s,
                "latency_a": sides[0].latency_s, "latency_b": sides[1].latency_s})
        yield BattleUpdate(token, sides[0], sides[1], True, mode, names, note)

    # -- votes ---------------------------------------------------------------------------------
    def vote(self, token: str, winner: str, session: str = "") -> VoteResult:
        self.vote_limit.check(session)
        battle = self.store.battle(token)  # validates the signature, gives the answers for the flag
        access.for_play(self.rooms, battle.room)  # a closed room takes no votes
        if battle.answer_a is None or battle.answer_b is None:
            raise LabError("Both answers must finish before you vote.")
        flag = identity_flag(battle.answer_a, battle.answer_b, self.by_id.get(battle.model_a),
                             self.by_id.get(battle.model_b))
        vote = self.store.record_vote(token, winner, session=session, flag=flag)
        if self.sink is not None:
            try:
                self.sink.write(vote.record())
            except Exception:  # noqa: BLE001 - the vote is committed locally; the sink is re-synced later
                log.exception("arena: durable sink write failed for vote %s", vote.vote_id)
        a, b = self.by_id.get(vote.model_a), self.by_id.get(vote.model_b)
        msg = f"Vote recorded: {VOTE_LABELS[winner]}."
        if vote.flagged:
            msg += f" Flagged ({vote.flag_reason}): excluded from the leaderboard by default."
        return VoteResult(vote, a.label if a else vote.model_a, b.label if b else vote.model_b,
                          a.describe() if a else "", b.describe() if b else "", msg,
                          self.store.counts(vote.room))


def _copy(side: Side) -> Side:
    return Side(side.text, side.done, side.error, side.ttft_s, side.latency_s, side.pieces)


_arena: Arena | None = None
_arena_lock = threading.Lock()


def get_arena() -> Arena:
    """The process-wide arena built from the default configuration (and the Spaces sink, if any)."""
    global _arena
    with _arena_lock:
        if _arena is None:
            from core.arena.sink import sink_from_env

            store = get_store()
            sink = sink_from_env(store)
            _arena = Arena(store=store, sink=sink,
                           max_new_tokens=min(192, get_settings().limits.max_new_tokens))
        return _arena

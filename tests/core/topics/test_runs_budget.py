"""A session keeps a handle to its topic run; the run itself lives in the lab's memory budget."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.errors import LabError
from core.topics import runs
from core.topics.runs import DROPPED, RunRef, TopicRun, keep, resolve, run_size


def _run(n_docs: int = 200) -> TopicRun:
    shared_model = SimpleNamespace(weights=np.zeros((1000, 384), np.float32))  # 1.5 MB every run shares
    model = SimpleNamespace(embedding_model=shared_model, c_tf_idf_=np.zeros((20, 500), np.float32))
    return TopicRun(corpus=None, config=None, model=model, embeddings=np.zeros((n_docs, 384), np.float32),
                    coords=np.zeros((n_docs, 2), np.float32))


def test_the_session_holds_a_handle_and_the_budget_holds_the_run() -> None:
    run = _run()
    ref = keep(run)
    assert isinstance(ref, RunRef) and resolve(ref) is run
    assert resolve(None) is None and resolve(run) is run  # no run yet / a run passed directly
    assert ref.id in runs._runs().keys()


def test_size_counts_the_run_not_the_shared_embedding_model() -> None:
    run = _run(200)
    own = 200 * 384 * 4 + 200 * 2 * 4 + 20 * 500 * 4
    assert own <= run_size(run) < own + 200_000  # not the 1.5 MB model


def test_an_evicted_run_says_how_to_get_it_back() -> None:
    ref = keep(_run())
    runs._runs().discard(ref.id)  # as the budget does under memory pressure
    with pytest.raises(LabError, match="dropped to free memory") as err:
        resolve(ref)
    assert str(err.value) == DROPPED and "Find topics" in DROPPED
    assert resolve(ref, missing_ok=True) is None

"""The model store's contract on both of its databases: SQLite (the embedded default) and a
real PostgreSQL server (a throwaway cluster per session, tests/postgres.py).

Oracles: the fits themselves before they were stored (predictions equal bit for bit after a
round trip), the set of ids each thread was told it wrote, and RFC 4122 (ids are random
UUIDs)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from losscore.train import FitResult, fit, predict
from service.modelview import summary_fields
from service.store import ModelStore


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], ModelStore]]:
    """Stores on the test's database (each one a replica's view), closed afterwards."""
    opened: list[ModelStore] = []

    def make() -> ModelStore:
        opened.append(ModelStore(store_url, summary_fields))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def _fits() -> list[FitResult]:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(40, 3))
    return [
        fit(
            X,
            np.where(X[:, 0] > 0, "yes", "no"),
            task="classification",
            loss="hinge",
            penalty="l2",
            alpha=0.01,
        ),
        fit(
            X,
            X @ [1.0, -2.0, 0.5] + rng.normal(size=40),
            task="regression",
            loss="huber",
            penalty="l1",
            alpha=1e-3,
        ),
        fit(
            X,
            np.arange(40) % 3,
            task="classification",
            loss="softmax_cross_entropy",
            penalty="elastic_net",
            alpha=0.01,
            l1_ratio=0.5,
        ),
    ]


def test_round_trip_list_and_delete(open_store: Callable[[], ModelStore]) -> None:
    store = open_store()
    originals = _fits()
    stored = [store.add(r) for r in originals]
    probe = np.random.default_rng(1).normal(size=(6, 3))
    for s, original in zip(stored, originals, strict=True):
        back = store.get(s.model_id)
        assert back is not None
        np.testing.assert_array_equal(
            predict(back.result, probe).decision_function,
            predict(original, probe).decision_function,
        )
        assert uuid.UUID(hex=s.model_id).version == 4  # unguessable: 122 random bits
    items, cursor = store.list(10)
    assert cursor is None
    assert [i["model_id"] for i in items] == [s.model_id for s in reversed(stored)]
    assert store.delete(stored[1].model_id) is True
    assert store.get(stored[1].model_id) is None
    assert store.delete(stored[1].model_id) is False


def test_two_stores_on_one_database_see_each_other(open_store: Callable[[], ModelStore]) -> None:
    """Two store objects stand for two replicas: a write through one is read through the
    other at once, and a delete through one is a miss through the other at once."""
    a, b = open_store(), open_store()
    s = a.add(_fits()[0])
    seen = b.get(s.model_id)
    assert seen is not None and seen.result.loss == "hinge"
    assert b.delete(s.model_id) is True
    assert a.get(s.model_id) is None


def test_concurrent_deletes_of_one_model_succeed_once(open_store: Callable[[], ModelStore]) -> None:
    store = open_store()
    s = store.add(_fits()[1])
    results: list[bool] = []
    start = threading.Barrier(8)

    def delete() -> None:
        start.wait()
        results.append(store.delete(s.model_id))

    threads = [threading.Thread(target=delete) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_pagination_under_concurrent_inserts(open_store: Callable[[], ModelStore]) -> None:
    """A walk over the list, page by page, while other threads insert: every model that
    existed when the walk began is seen exactly once."""
    store = open_store()
    one = _fits()[0]
    before = {store.add(one).model_id for _ in range(45)}
    stop = threading.Event()
    written: list[str] = []

    def insert() -> None:
        while not stop.is_set() and len(written) < 200:
            written.append(store.add(one).model_id)

    writers = [threading.Thread(target=insert) for _ in range(3)]
    for t in writers:
        t.start()
    seen: list[str] = []
    cursor: Any = None
    try:
        while True:
            items, cursor = store.list(4, cursor)
            seen += [i["model_id"] for i in items]
            if cursor is None:
                break
    finally:
        stop.set()
        for t in writers:
            t.join()
    assert len(seen) == len(set(seen)), "a model was listed twice"
    assert before <= set(seen), "a model that existed before the walk was skipped"
    assert set(seen) <= before | set(written)


def test_pool_sizes_come_from_the_settings(postgres_url: str, tmp_path: Path) -> None:
    """LOSSCORE_DATABASE_POOL_SIZE / _MAX_OVERFLOW reach a server database's pool: with 2 + 1
    a fourth simultaneous checkout waits (and times out here) instead of opening a fourth
    connection."""
    import sqlalchemy as sa

    from service.deps import open_store
    from service.settings import Settings

    settings = Settings(
        data_dir=tmp_path, database_url=postgres_url, database_pool_size=2, database_max_overflow=1
    )
    store = open_store(settings)
    try:
        assert store.engine.pool.size() == 2  # type: ignore[attr-defined]
        held = [store.engine.connect() for _ in range(3)]
        store.engine.pool._timeout = 0.2  # type: ignore[attr-defined]
        try:
            with pytest.raises(sa.exc.TimeoutError):
                store.engine.connect()
        finally:
            for conn in held:
                conn.close()
    finally:
        store.close()

"""Three service processes (replicas) on one real PostgreSQL, driven from many client threads
at once, over real HTTP: what one replica acknowledged every replica serves, exactly once;
a delete is seen by every replica as soon as it returned; concurrent deletes of one model
give one 204 and 404s; a walk over the list while others insert neither skips nor repeats.

Oracles: the ids each client thread was told it stored (201/200 answers), the HTTP statuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests._live import Served, served

BODY = {
    "task": "regression",
    "loss": {"name": "l2"},
    "X": [[0.0], [1.0], [2.0]],
    "y": [0.0, 1.0, 2.5],
}


@pytest.fixture
def processes(postgres_url: str, tmp_path: Path) -> Iterator[list[Served]]:
    with ExitStack() as stack:
        started = []
        for i in range(3):
            data_dir = tmp_path / f"replica{i}"
            data_dir.mkdir()
            started.append(
                stack.enter_context(served(data_dir, LOSSCORE_DATABASE_URL=postgres_url))
            )
        yield started


@pytest.fixture
def replicas(processes: list[Served]) -> list[str]:
    return [p.base for p in processes]


def _train(client: httpx.Client, base: str) -> str:
    """Train until acknowledged (a 503 from a busy replica is retried, as its Retry-After
    asks); the stored model's id."""
    for _ in range(200):
        r = client.post(f"{base}/v1/train", json=BODY)
        if r.status_code == 200:
            model_id: str = r.json()["model_id"]
            return model_id
        assert r.status_code == 503, r.text
        time.sleep(0.05)
    raise AssertionError("no replica took the fit")


def _all_ids(client: httpx.Client, base: str, limit: int = 7) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"{base}/v1/models", params=params)
        assert page.status_code == 200, page.text
        ids += [m["model_id"] for m in page.json()["models"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return ids


def test_replicas_share_one_store(replicas: list[str]) -> None:
    local = threading.local()
    clients: list[httpx.Client] = []  # one per pool thread, closed at the end

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30)
            clients.append(local.client)
        return local.client

    try:
        _exercise(replicas, client)
    finally:
        for c in clients:
            c.close()


def _exercise(replicas: list[str], client: Callable[[], httpx.Client]) -> None:

    with ThreadPoolExecutor(12) as pool:
        acknowledged = list(pool.map(lambda i: _train(client(), replicas[i % 3]), range(60)))
    assert len(set(acknowledged)) == 60
    with httpx.Client(timeout=30) as c:
        for base in replicas:  # every acknowledged model, exactly once, on every replica
            listed = _all_ids(c, base)
            assert len(listed) == len(set(listed)) == 60
            assert set(listed) == set(acknowledged)
            assert c.get(f"{base}/v1/models/{acknowledged[7]}").status_code == 200

        # concurrent deletes of one model through all three replicas: one 204, the rest 404
        target = acknowledged[0]
        start = threading.Barrier(9)

        def delete(i: int) -> int:
            start.wait()
            return client().delete(f"{replicas[i % 3]}/v1/models/{target}").status_code

        with ThreadPoolExecutor(9) as pool:
            statuses = sorted(pool.map(delete, range(9)))
        assert statuses == [204] + [404] * 8
        for base in replicas:  # gone everywhere as soon as the delete returned
            assert c.get(f"{base}/v1/models/{target}").status_code == 404

        # a walk over replica 0's list while two replicas take new fits
        before = set(acknowledged[1:])
        stop = threading.Event()
        added: list[str] = []

        def insert(base: str) -> None:
            with httpx.Client(timeout=30) as own:
                while not stop.is_set() and len(added) < 60:
                    added.append(_train(own, base))

        writers = [threading.Thread(target=insert, args=(b,)) for b in replicas[1:]]
        for t in writers:
            t.start()
        try:
            walked = _all_ids(c, replicas[0], limit=3)
        finally:
            stop.set()
            for t in writers:
                t.join()
        assert len(walked) == len(set(walked)), "a model was listed twice"
        assert before <= set(walked), "a model stored before the walk was skipped"


def test_a_killed_replica_loses_no_acknowledged_model(processes: list[Served]) -> None:
    """Client threads train through all three replicas; one replica is SIGKILLed in the
    middle. Every fit acknowledged with a 200 — by any replica, the killed one included — is
    served by the two that remain; the killed one's unanswered requests are not models."""
    bases = [p.base for p in processes]
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(i: int) -> None:
        with httpx.Client(timeout=10) as c:
            n = 0
            while not stop.is_set():
                base = bases[(i + n) % 3]
                n += 1
                try:
                    r = c.post(f"{base}/v1/train", json=BODY)
                except httpx.TransportError:
                    continue  # the killed replica: no answer, no acknowledgement
                if r.status_code == 200:
                    with lock:
                        acknowledged.append(r.json()["model_id"])

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    processes[2].proc.kill()  # SIGKILL: no drain, no shutdown hooks
    processes[2].proc.wait(timeout=10)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > 10
    with httpx.Client(timeout=30) as c:
        for base in bases[:2]:
            listed = _all_ids(c, base, limit=100)
            assert len(listed) == len(set(listed))
            missing = set(acknowledged) - set(listed)
            assert not missing, f"{len(missing)} acknowledged models lost"

"""The store's schema under Alembic, on SQLite and a real PostgreSQL: a store at revision
0001 (the schema 0.3.0 shipped) upgrades to head with every model intact; stores opened
together on an empty database migrate it once; the explicit command does the same.

Oracles: the fits before they were stored (predictions bit for bit), the database's own
catalog (indexes, the revision table)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from losscore.train import fit, predict
from service.migrate import HEAD, current_revision, upgrade
from service.modelview import summary_fields
from service.store import ModelStore, json_safe, models

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(store_url: str) -> str:
    return store_url


def test_revision_1_store_upgrades_with_every_model_intact(url: str) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 2))
    fits = {
        f"m{i}": fit(X, X @ [1.0, -1.0] + i, task="regression", loss="huber", alpha=1e-3)
        for i in range(5)
    }
    engine = sa.create_engine(url)
    try:
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        with engine.begin() as conn:
            for i, (mid, r) in enumerate(fits.items()):
                conn.execute(
                    models.insert().values(
                        id=mid,
                        created_at=time.time() + i,
                        task=r.task,
                        loss=r.loss,
                        n_features=r.n_features,
                        payload=json.dumps(json_safe(r.to_dict())),
                        summary=json.dumps(json_safe(summary_fields(r))),
                    )
                )
        indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("models")}
        assert indexes == {"ix_models_created_at"}
    finally:
        engine.dispose()
    store = ModelStore(url, summary_fields)  # opening it applies 0002
    try:
        assert current_revision(store.engine) == HEAD
        indexes = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("models")}
        assert indexes == {"ix_models_created_at_id"}
        items, _ = store.list(10)
        assert [i["model_id"] for i in items] == ["m4", "m3", "m2", "m1", "m0"]
        probe = rng.normal(size=(7, 2))
        for mid, original in fits.items():
            stored = store.get(mid)
            assert stored is not None
            np.testing.assert_array_equal(
                predict(stored.result, probe).prediction, predict(original, probe).prediction
            )
    finally:
        store.close()


def test_stores_opened_together_migrate_once(url: str) -> None:
    """Six stores (replicas) open one empty database at the same moment: each opens, the
    schema is at head, the readiness probe row exists once."""
    start = threading.Barrier(6)
    opened: list[ModelStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            opened.append(ModelStore(url, summary_fields))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(opened) == 6
        assert current_revision(opened[0].engine) == HEAD
        with opened[0].engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM store_probe")).scalar() == 1
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == [HEAD]
    finally:
        for store in opened:
            store.close()


def _migrate(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.migrate", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_explicit_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'explicit.db'}"
    done = _migrate(url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"None -> {HEAD}")
    assert _migrate(url).stdout.strip().endswith(f"{HEAD} -> {HEAD}")

"""Fits over Dask collections on a real ``distributed.LocalCluster`` (2 worker processes).

Oracles: the in-memory fit of the same data (itself checked against scipy and scikit-learn in
test_matrix / test_oracles), scikit-learn's LogisticRegression and Ridge directly, and closed
forms (pass counts). Data files are written by the tests with pyarrow / pandas.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import pandas as pd  # noqa: E402  (after the importorskips)
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402

from losscore.errors import InvalidInputError  # noqa: E402
from losscore.losses import list_losses  # noqa: E402
from losscore.train import fit, predict  # noqa: E402
from losscore.train.distributed import fit_distributed  # noqa: E402

PENALTIES = ["none", "l2", "l1", "elastic_net"]
ROWS, BLOCK = 600, 150  # four blocks


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _trainable() -> list[tuple[str, dict[str, float]]]:
    out = []
    for spec in list_losses():
        if spec.training.tasks:
            out.append((spec.name, {}))
    out.append(("smooth_l1", {"beta": 0.0}))  # the piecewise-linear member of a smooth family
    return out


def _data(task: str, multinomial: bool, seed: int = 0) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(ROWS, 3)) + np.array([0.0, 1.0, -2.0])
    score = X @ [1.0, -1.0, 0.5] + 0.8 * rng.normal(size=ROWS)
    if task == "regression":
        y: Any = score + 0.5 + rng.standard_t(3, size=ROWS)
    elif multinomial:
        y = np.digitize(score, [-1.5, 0.0])
    else:
        y = np.where(score > -0.5, "yes", "no")
    s = rng.uniform(0.2, 2.0, size=ROWS)
    return X, y, s


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize(("loss", "params"), _trainable(), ids=lambda v: str(v))
def test_cluster_fit_matches_in_memory(
    client: Any, loss: str, params: dict[str, float], penalty: str
) -> None:
    spec = next(s for s in list_losses() if s.name == loss)
    task = spec.training.tasks[0]
    X, y, s = _data(task, spec.training.multinomial)
    kw: dict[str, Any] = {
        "task": task,
        "loss": loss,
        "loss_params": params,
        "penalty": penalty,
        "alpha": 0.05,
        "sample_weight": s,
    }
    local = fit(X, y, **kw)
    remote = fit(
        da.from_array(X, chunks=(BLOCK, 3)),
        da.from_array(y, chunks=BLOCK),
        **{**kw, "sample_weight": da.from_array(s, chunks=BLOCK)},
    )
    rel = abs(remote.objective - local.objective) / max(abs(local.objective), 1e-300)
    assert rel <= 1e-8, (remote.solver, remote.objective, local.objective)
    assert remote.passes is not None and remote.passes >= 2  # at least the census and report
    assert remote.provenance["engine"] == "dask" and remote.provenance["blocks"] == 4
    assert np.all(np.isfinite(remote.coef))
    # the model predicts like the in-memory one (a tolerance on scores: the optimum of a
    # piecewise-linear loss may be a face, not a point)
    if task == "classification":
        agree = np.mean(predict(remote, X).prediction == predict(local, X).prediction)
        assert agree >= 0.99
    # metrics: equal for a unique optimum; a piecewise-linear loss may leave the intercept on
    # a flat segment (any point of it is optimal), moving the metrics a little
    rel_metrics = 1e-6 if spec.smooth else 1e-2
    for key, value in local.metrics.items():
        assert remote.metrics[key] == pytest.approx(value, rel=rel_metrics, abs=1e-9)


@pytest.mark.parametrize(
    ("task", "loss", "penalty"),
    [
        ("classification", "hinge", "l1"),
        ("classification", "hinge", "none"),
        ("regression", "quantile", "l1"),
        ("regression", "epsilon_insensitive", "none"),
    ],
)
def test_piecewise_without_l2_certified_by_the_band_lp(
    client: Any, monkeypatch: pytest.MonkeyPatch, task: str, loss: str, penalty: str
) -> None:
    """Piecewise-linear losses without an l2 part: the band's linear program, with the rows
    outside the band as one linear term, gives the exact optimum once no fixed row crosses
    (the in-memory fit's HiGHS LP over all rows is the oracle). When the band never gets small
    enough for the LP, the fit does not claim convergence."""
    X, y, s = _data(task, False, seed=2)
    kw: dict[str, Any] = {"task": task, "loss": loss, "penalty": penalty, "alpha": 0.05}
    local = fit(X, y, sample_weight=s, **kw)
    assert local.solver == "linprog_highs" and local.converged
    Xd, yd, sd = (da.from_array(v, chunks=(BLOCK, 3) if v.ndim == 2 else BLOCK) for v in (X, y, s))
    remote = fit(Xd, yd, sample_weight=sd, **kw)
    assert remote.converged and remote.solver == "smoothing_newton_band_lp"
    assert remote.optimality <= 1e-12
    assert remote.objective == pytest.approx(local.objective, rel=1e-10, abs=1e-12)
    from losscore.train.distributed import _band

    monkeypatch.setattr(_band, "BAND_LP_ROWS", 0)
    uncertified = fit(Xd, yd, sample_weight=sd, **kw)
    assert not uncertified.converged and uncertified.stop_reason == "no_progress"


def test_against_scikit_learn(client: Any) -> None:
    """Independent oracles on the cluster: LogisticRegression (C = 1/(n·alpha)) and Ridge."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 4))
    yb = (X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=2000) > 0).astype(int)
    alpha = 1e-2
    r = fit(
        da.from_array(X, chunks=(300, 4)),
        da.from_array(yb, chunks=300),
        task="classification",
        loss="log_loss",
        penalty="l2",
        alpha=alpha,
    )
    sk = LogisticRegression(C=1 / (2000 * alpha), tol=1e-12, max_iter=10_000).fit(X, yb)
    np.testing.assert_allclose(r.coef, sk.coef_[0], rtol=1e-6, atol=1e-8)
    assert r.intercept == pytest.approx(sk.intercept_[0], rel=1e-6, abs=1e-8)
    yr = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=2000)
    r2 = fit(
        da.from_array(X, chunks=(300, 4)),
        da.from_array(yr, chunks=300),
        task="regression",
        loss="l2",
        penalty="l2",
        alpha=alpha,
    )
    # F = mean ½(f − y)²·2/2 … l2 loss is (f − y)²: Ridge's alpha = n·alpha/2
    ridge = Ridge(alpha=2000 * alpha / 2, tol=1e-12).fit(X, yr)
    np.testing.assert_allclose(r2.coef, ridge.coef_, rtol=1e-8)
    # census (with the moments), Gram sums, report: exactly three passes for the normal
    # equations
    assert r2.passes == 3 and r2.solver == "normal_equations"


def test_weights_and_class_weights(client: Any) -> None:
    X, y, s = _data("classification", True, seed=5)  # three classes
    Xd, yd, sd = (da.from_array(v, chunks=(BLOCK, 3) if v.ndim == 2 else BLOCK) for v in (X, y, s))
    for loss in ("hinge", "softmax_cross_entropy", "log_loss"):
        for cw in ("balanced", {0: 3.0, 2: 0.5}):
            kw: dict[str, Any] = {
                "task": "classification",
                "loss": loss,
                "penalty": "l2",
                "alpha": 0.02,
                "class_weight": cw,
            }
            local = fit(X, y, sample_weight=s, **kw)
            remote = fit(Xd, yd, sample_weight=sd, **kw)
            assert remote.multiclass == local.multiclass
            assert remote.objective == pytest.approx(local.objective, rel=1e-8)
            np.testing.assert_array_equal(remote.classes, local.classes)
    # weights change the fit: a weighted and an unweighted fit differ
    plain = fit(Xd, yd, task="classification", loss="log_loss", penalty="l2", alpha=0.02)
    weighted = fit(
        Xd, yd, sample_weight=sd, task="classification", loss="log_loss", penalty="l2", alpha=0.02
    )
    assert abs(plain.objective - weighted.objective) > 1e-6


def _frame(tmp_path: Any) -> tuple[pd.DataFrame, Any]:
    X, y, s = _data("regression", False, seed=7)
    df = pd.DataFrame(
        {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "target": y, "w": s, "note": ["x"] * ROWS}
    )
    return df, (X, y, s)


def test_parquet_and_csv_frames(client: Any, tmp_path: Any) -> None:
    df, (X, y, s) = _frame(tmp_path)
    pq = tmp_path / "data.parquet"
    pq.mkdir()
    for i in range(4):
        df.iloc[i * BLOCK : (i + 1) * BLOCK].to_parquet(pq / f"part-{i}.parquet")
    csv = tmp_path / "data.csv"
    df.to_csv(csv, index=False)
    local = fit(
        X[:, [0, 2]],
        y,
        sample_weight=s,
        task="regression",
        loss="huber",
        penalty="elastic_net",
        alpha=0.05,
    )
    for frame in (dd.read_parquet(str(pq)), dd.read_csv(str(csv), blocksize=4000)):
        r = fit(
            frame,
            "target",
            features=["a", "c"],
            sample_weight="w",
            task="regression",
            loss="huber",
            penalty="elastic_net",
            alpha=0.05,
        )
        assert r.objective == pytest.approx(local.objective, rel=1e-8)
        np.testing.assert_allclose(r.coef, local.coef, rtol=1e-5, atol=1e-7)
    with pytest.raises(InvalidInputError) as err:
        fit(dd.read_parquet(str(pq)), "target", features=["a", "zz"], task="regression", loss="l2")
    assert err.value.field == "features" and "'zz'" in err.value.reason
    with pytest.raises(InvalidInputError) as err:
        fit(
            dd.read_parquet(str(pq)), "target", features=["a", "note"], task="regression", loss="l2"
        )
    assert err.value.field in ("X", "features")


def test_bad_data_names_the_global_row(client: Any) -> None:
    X, y, _ = _data("regression", False)
    X[470, 1] = np.nan  # block 3, row 20 of it
    with pytest.raises(InvalidInputError) as err:
        fit(
            da.from_array(X, chunks=(BLOCK, 3)),
            da.from_array(y, chunks=BLOCK),
            task="regression",
            loss="l2",
        )
    assert err.value.field == "X" and err.value.index == (470, 1)
    y1 = np.zeros(ROWS, dtype=int)
    with pytest.raises(InvalidInputError, match="two classes"):
        fit(
            da.from_array(np.nan_to_num(X), chunks=(BLOCK, 3)),
            da.from_array(y1, chunks=BLOCK),
            task="classification",
            loss="hinge",
        )


def test_local_scheduler_reads_the_data_each_pass(tmp_path: Any) -> None:
    """Without a client the blocks are not persisted (out of core) and the fit is the same."""
    df, (X, y, _s) = _frame(tmp_path)
    pq = tmp_path / "p.parquet"
    df.to_parquet(pq)
    with dask.config.set(scheduler="threads"):
        frame = dd.read_parquet(str(pq)).repartition(npartitions=3)
        r = fit_distributed(
            frame,
            "target",
            features=["a", "b", "c"],
            task="regression",
            loss="quantile",
            loss_params={"q": 0.3},
            penalty="l2",
            alpha=0.05,
            persist=False,
        )
    local = fit(
        X, y, task="regression", loss="quantile", loss_params={"q": 0.3}, penalty="l2", alpha=0.05
    )
    assert r.provenance["persisted"] is False
    assert r.objective == pytest.approx(local.objective, rel=1e-8)


def test_worker_killed_mid_fit(client: Any) -> None:
    """A worker SIGKILLed during the fit: Dask recomputes its blocks and the fit completes with
    the right model, or fails with an error; it never returns a wrong model."""
    X, y, _s = _data("classification", False, seed=11)
    kw: dict[str, Any] = {"task": "classification", "loss": "hinge", "penalty": "l2", "alpha": 0.01}
    local = fit(X, y, **kw)
    pids = list(client.run(os.getpid).values())
    killed = threading.Event()

    def kill_once(iteration: int, *_: float) -> None:
        if iteration == 5 and not killed.is_set():
            killed.set()
            os.kill(pids[0], signal.SIGKILL)

    outcome: Any
    try:
        outcome = fit(
            da.from_array(X, chunks=(BLOCK, 3)),
            da.from_array(y, chunks=BLOCK),
            callback=kill_once,
            **kw,
        )
    except Exception as exc:  # a clear error is acceptable; a wrong model is not
        outcome = exc
    if isinstance(outcome, Exception):
        text = repr(outcome).lower()
        assert "worker" in text or "killed" in text
    else:
        assert outcome.objective == pytest.approx(local.objective, rel=1e-8)
    assert killed.is_set()
    client.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("loss", ["log_loss", "squared_hinge", "huber", "modified_huber"])
def test_sampled_hessian_reaches_the_same_optimum(
    client: Any, monkeypatch: pytest.MonkeyPatch, loss: str, penalty: str
) -> None:
    """Newton directions from every 6th row's curvature (the default samples 2¹⁸ rows, so
    only large data would take this path): the optimum is the in-memory fit's, since the
    gradient, line search and certificate use every row. The fourth feature is non-zero only
    on rows the sample skips, so the sample sees no curvature along it: the fit must notice
    and sum the full Hessian."""
    from losscore.train.distributed import _fit

    monkeypatch.setattr(_fit, "HESSIAN_ROWS", 16)
    monkeypatch.setattr(_fit, "HESSIAN_ROWS_PER_COEF", 20)  # stride 600 // 100 = 6
    spec = next(s for s in list_losses() if s.name == loss)
    task = spec.training.tasks[0]
    X, y, s = _data(task, False, seed=7)
    hidden = np.where(np.arange(ROWS) % 6 == 3, np.random.default_rng(1).normal(size=ROWS), 0.0)
    X = np.column_stack([X, hidden])
    kw: dict[str, Any] = {"task": task, "loss": loss, "penalty": penalty, "alpha": 0.01}
    local = fit(X, y, sample_weight=s, **kw)
    remote = fit(
        da.from_array(X, chunks=(BLOCK, 4)),
        da.from_array(y, chunks=BLOCK),
        sample_weight=da.from_array(s, chunks=BLOCK),
        **kw,
    )
    rel = abs(remote.objective - local.objective) / abs(local.objective)
    assert rel <= 1e-8, (remote.solver, remote.objective, local.objective)
    assert remote.converged == local.converged


@pytest.mark.parametrize("exact", [True, False], ids=["crossover", "gap"])
@pytest.mark.parametrize("loss", ["hinge", "quantile", "epsilon_insensitive"])
def test_band_crossover(
    client: Any, monkeypatch: pytest.MonkeyPatch, loss: str, exact: bool
) -> None:
    """The band crossover with a band smaller than the data (at most 150 of 600 rows come to
    the driver; the rest enter as one linear term). With the band's exact crossover the fit
    ends at the in-memory optimum; with it disabled the band problem ends at a certified gap,
    which must bound the distance to the in-memory fit's objective (the linearised fixed rows
    lie below the exact loss everywhere), as the in-memory certificate bounds it the other
    way."""
    from losscore.train.distributed import _band, _solve

    monkeypatch.setattr(_band, "BAND_ROWS", 150)
    if not exact:
        monkeypatch.setattr(_solve, "crossover", lambda *args: None)
    spec = next(s for s in list_losses() if s.name == loss)
    task = spec.training.tasks[0]
    X, y, s = _data(task, False, seed=11)
    kw: dict[str, Any] = {"task": task, "loss": loss, "penalty": "l2", "alpha": 0.01}
    local = fit(X, y, sample_weight=s, **kw)
    remote = fit(
        da.from_array(X, chunks=(BLOCK, 3)),
        da.from_array(y, chunks=BLOCK),
        sample_weight=da.from_array(s, chunks=BLOCK),
        **kw,
    )
    assert remote.converged
    assert remote.solver == ("smoothing_newton_crossover" if exact else "smoothing_newton_band")
    # each certificate bounds the distance to F*, which neither fit is below
    assert remote.objective - local.objective <= remote.optimality + 1e-13
    assert local.objective - remote.objective <= local.optimality + 1e-13
    assert abs(remote.objective - local.objective) <= 1e-8 * local.objective
    if exact:  # a KKT residual, the exact optimum to rounding
        assert remote.optimality <= 1e-12

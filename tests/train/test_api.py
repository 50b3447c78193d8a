"""Behaviour of fit/predict: labels, weights, standardize, stopping, callback, results."""

from __future__ import annotations

import json

import numpy as np
import pytest

import losscore
from losscore.train import fit, predict

from ._oracle import objective


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(-1, 1, size=(60, 3)), rng.normal(1, 1, size=(60, 3))])
    y = np.array(["cat"] * 60 + ["dog"] * 60)
    return X, y


def test_string_labels_and_predict(blobs):
    X, y = blobs
    r = fit(X, y, task="classification", loss="log_loss", alpha=1e-2)
    assert list(r.classes) == ["cat", "dog"]
    p = predict(r, X)
    assert set(p.prediction.tolist()) <= {"cat", "dog"}
    assert p.decision_function.shape == (120,)
    assert p.probability.shape == (120, 2)
    np.testing.assert_allclose(p.probability.sum(axis=1), 1.0)
    assert np.mean(p.prediction == y) == pytest.approx(r.metrics["accuracy"])
    assert predict(fit(X, y, task="classification", loss="hinge"), X).probability is None
    json.dumps(r.to_dict())  # JSON-ready, no pickle


def test_sample_and_class_weights_enter_objective(blobs):
    X, y = blobs
    s = np.linspace(0.5, 2.0, len(y))
    r = fit(
        X,
        y,
        task="classification",
        loss="log_loss",
        alpha=1e-2,
        sample_weight=s,
        class_weight={"dog": 3.0},
    )
    ys = np.where(y == "dog", 1, -1)
    c = np.where(y == "dog", 3.0, 1.0)
    # F = (1/Σs) Σ s c ℓ + alpha R : evaluate with weight s·c, then rescale Σ(s c) → Σ s
    F = objective(
        "log_loss", X, ys, r.coef, r.intercept, alpha=0.0, penalty="none", sample_weight=s * c
    )
    F = F * (s * c).sum() / s.sum() + 1e-2 * 0.5 * float(r.coef @ r.coef)
    assert r.objective == pytest.approx(F, rel=1e-12)
    rb = (
        fit(X, y[:110], task="classification", loss="log_loss", class_weight="balanced")
        if False
        else None
    )
    assert rb is None


def test_balanced_class_weight():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 2))
    y = np.array([0] * 80 + [1] * 20)
    X[y == 1] += 1.0
    r = fit(X, y, task="classification", loss="log_loss", class_weight="balanced", alpha=1e-3)
    ys = np.where(y == 1, 1, -1)
    c = np.where(y == 1, 100 / (2 * 20), 100 / (2 * 80))
    ev = losscore.evaluate(
        "log_loss", X @ r.coef + r.intercept, ys, weight=c, reduction="sum"
    ).value
    assert r.objective == pytest.approx(ev / 100 + 1e-3 * 0.5 * float(r.coef @ r.coef), rel=1e-12)


def test_standardize_reports_original_units_and_handles_constant_columns():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3)) * np.array([1.0, 100.0, 0.01])
    X = np.hstack([X, np.full((200, 1), 7.0)])  # a constant feature
    y = X @ np.array([1.0, 0.02, 50.0, 0.0]) + 3.0 + 0.1 * rng.normal(size=200)
    r = fit(X, y, task="regression", loss="l2", penalty="l2", alpha=0.1, standardize=True)
    assert np.isfinite(r.coef).all()
    assert r.coef[3] == 0.0
    sd = X.std(axis=0)
    sd[3] = 1.0
    Xs = (X - X.mean(0)) / sd
    p = r.coef * sd  # penalty applies to standardised coefficients
    b_std = r.intercept + r.coef @ X.mean(0)
    F = objective("l2", Xs, y, p, b_std, alpha=0.1, penalty="l2")
    assert r.objective == pytest.approx(F, rel=1e-10)
    np.testing.assert_allclose(predict(r, X).prediction, Xs @ p + b_std, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(r.feature_scale, sd)


def test_time_limit_returns_best_so_far():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100_000, 30))
    y = np.where(X @ rng.normal(size=30) + rng.normal(size=100_000) > 0, 1, -1)
    r = fit(
        X,
        y,
        task="classification",
        loss="log_loss",
        penalty="none",
        tol=1e-300,
        max_iter=100_000,
        time_limit_s=0.05,
    )
    assert r.stop_reason == "time_limit"
    assert not r.converged
    assert r.objective < np.log(2)
    assert r.elapsed_ms < 2000


def test_callback_and_history(blobs):
    X, y = blobs
    seen = []
    r = fit(X, y, task="classification", loss="log_loss", callback=lambda *a: seen.append(a))
    assert len(seen) == len(r.history) > 0
    it, obj, _opt, elapsed = seen[-1]
    assert it == len(seen)
    assert obj == pytest.approx(r.history[-1])
    assert elapsed >= 0
    assert r.history[-1] <= r.history[0]
    assert r.provenance["random_state"] == 0
    assert r.provenance["data_hash"].startswith("xxh3_128:")
    assert "numpy" in r.provenance["versions"]


def test_max_iter_stop_reason(blobs):
    X, y = blobs
    r = fit(X, y, task="classification", loss="log_loss", max_iter=2, tol=1e-14)
    assert r.stop_reason == "max_iter"
    assert not r.converged


def test_regression_metrics_and_no_intercept():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 2))
    y = X @ np.array([1.0, 2.0])
    r = fit(X, y, task="regression", loss="l2", penalty="none", fit_intercept=False)
    assert r.intercept == 0.0
    np.testing.assert_allclose(r.coef, [1.0, 2.0], atol=1e-10)
    assert r.metrics["r2"] == pytest.approx(1.0)
    assert r.metrics["mse"] < 1e-18


def test_perceptron_optimum_is_zero(blobs):
    X, y = blobs
    r = fit(X, y, task="classification", loss="perceptron")
    assert r.objective == 0.0
    assert r.converged


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "modified_huber", "log_loss"])
def test_binary_losses_l1_and_elastic_net_are_consistent(blobs, loss):
    X, y = blobs
    ys = np.where(y == "dog", 1, -1)
    for penalty in ("l1", "elastic_net"):
        r = fit(X, y, task="classification", loss=loss, penalty=penalty, alpha=0.05, l1_ratio=0.5)
        F = objective(loss, X, ys, r.coef, r.intercept, alpha=0.05, penalty=penalty, l1_ratio=0.5)
        assert r.objective == pytest.approx(F, rel=1e-12)
        # no coordinate move lowers F
        for j in range(3):
            for step in (1e-4, -1e-4):
                w = r.coef.copy()
                w[j] += step
                Fj = objective(
                    loss, X, ys, w, r.intercept, alpha=0.05, penalty=penalty, l1_ratio=0.5
                )
                assert Fj >= F - 1e-9


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_class_major_block_sums_match_evaluate(smoothing):
    """The per-block function's multinomial path (classes on the leading axis) gives the sums
    of losscore.evaluate on the same scores."""
    from losscore.train._problem import chunk_sums

    rng = np.random.default_rng(6)
    Z = rng.normal(size=(50, 4))
    t = rng.integers(0, 3, size=50)
    w = rng.uniform(0.5, 2.0, size=50)
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=3)
    loss = losscore.get_loss("softmax_cross_entropy")
    params = {"label_smoothing": smoothing}
    fused = chunk_sums(loss, params, Z, t, w, np.ones(50), W, b)
    ev = losscore.evaluate(
        "softmax_cross_entropy",
        Z @ W.T + b,
        t,
        weight=w,
        reduction="sum",
        label_smoothing=smoothing,
    )
    assert fused.loss_sum == pytest.approx(ev.value, rel=1e-13)
    np.testing.assert_allclose(fused.grad_coef, ev.gradient.T @ Z, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        fused.grad_intercept, ev.gradient.sum(axis=0), rtol=1e-12, atol=1e-14
    )

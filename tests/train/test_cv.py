"""Cross-validation of α: folds equal scikit-learn's splitters for the same seed, mean scores
equal a hand-written loop over those folds (cold fits, scores by their formulas), weights
enter the scores as the formula says, the one-standard-error rule, and clear errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

import losscore.train as lt
from losscore.errors import InvalidParameterError
from losscore.train.folds import group_folds, kfold, stratified_folds

RNG = np.random.default_rng(5)
N, D = 90, 3
X = RNG.normal(size=(N, D))
W = np.array([1.0, -2.0, 0.5])
Y_REG = X @ W + 0.7 * RNG.normal(size=N) + 1.0
Y_CLS = np.array(["cat", "dog", "emu"])[np.digitize(X @ W + 0.6 * RNG.normal(size=N), [-1.0, 1.0])]
WEIGHTS = RNG.uniform(0.2, 3.0, size=N)
GROUPS = RNG.integers(0, 13, size=N)


def _sk_folds(splitter: Any, *args: Any) -> np.ndarray:
    out = np.full(N, -1)
    for j, (_, test) in enumerate(splitter.split(X, *args)):
        out[test] = j
    return out


@pytest.mark.parametrize("seed", [0, 7, 12345])
@pytest.mark.parametrize("k", [2, 5, 7])
def test_folds_equal_scikit_learns(seed: int, k: int) -> None:
    sk = _sk_folds(KFold(k, shuffle=True, random_state=seed))
    np.testing.assert_array_equal(kfold(N, k, shuffle=True, seed=seed), sk)
    np.testing.assert_array_equal(kfold(N, k, shuffle=False, seed=None), _sk_folds(KFold(k)))
    codes = np.unique(Y_CLS, return_inverse=True)[1]
    sk = _sk_folds(StratifiedKFold(k, shuffle=True, random_state=seed), Y_CLS)
    np.testing.assert_array_equal(stratified_folds(codes, k, shuffle=True, seed=seed), sk)
    sk = _sk_folds(StratifiedKFold(k), Y_CLS)
    np.testing.assert_array_equal(stratified_folds(codes, k, shuffle=False, seed=None), sk)
    sk = _sk_folds(GroupKFold(k), None, GROUPS)
    np.testing.assert_array_equal(group_folds(GROUPS, k, shuffle=False, seed=None), sk)
    sk = _sk_folds(GroupKFold(k, shuffle=True, random_state=seed), None, GROUPS)
    np.testing.assert_array_equal(group_folds(GROUPS, k, shuffle=True, seed=seed), sk)


def test_cross_validate_returns_the_splitters_folds() -> None:
    grid = [1.0, 0.1]
    reg = lt.cross_validate(X, Y_REG, task="regression", loss="l2", alphas=grid, cv=4,
                            random_state=3)  # fmt: skip
    np.testing.assert_array_equal(reg.folds, _sk_folds(KFold(4, shuffle=True, random_state=3)))
    assert reg.kind == "kfold"
    cls = lt.cross_validate(X, Y_CLS, task="classification", loss="log_loss", alphas=grid, cv=4,
                            random_state=3)  # fmt: skip
    sk = _sk_folds(StratifiedKFold(4, shuffle=True, random_state=3), Y_CLS)
    np.testing.assert_array_equal(cls.folds, sk)
    grp = lt.cross_validate(X, Y_REG, task="regression", loss="l2", alphas=grid, cv=4,
                            groups=GROUPS, shuffle=False)  # fmt: skip
    np.testing.assert_array_equal(grp.folds, _sk_folds(GroupKFold(4), None, GROUPS))


def _hand_scores(
    task: str, loss: str, penalty: str, grid: list[float], folds: np.ndarray, y: Any,
    weights: np.ndarray | None, score: Any, **extra: Any,
) -> np.ndarray:  # fmt: skip
    """The loop a user would write: a cold fit per fold and α, scored by its formula."""
    k = int(folds.max()) + 1
    out = np.empty((k, len(grid)))
    for j in range(k):
        tr, te = folds != j, folds == j
        sw = None if weights is None else weights[tr]
        for i, a in enumerate(grid):
            m = lt.fit(X[tr], y[tr], task=task, loss=loss, penalty=penalty, alpha=a,
                       sample_weight=sw, tol=1e-12, **extra)  # fmt: skip
            w = np.ones(te.sum()) if weights is None else weights[te]
            out[j, i] = score(m, X[te], y[te], w)
    return out


def _mse(m: Any, Xt: np.ndarray, yt: np.ndarray, w: np.ndarray) -> float:
    f = Xt @ m.coef + m.intercept
    return float(np.sum(w * (f - yt) ** 2) / np.sum(w))


def _huber_r2(m: Any, Xt: np.ndarray, yt: np.ndarray, w: np.ndarray) -> float:
    r = yt - (Xt @ m.coef + m.intercept)
    ybar = np.sum(w * yt) / np.sum(w)
    return float(1 - np.sum(w * r * r) / np.sum(w * (yt - ybar) ** 2))


def _multinomial_log_loss(m: Any, Xt: np.ndarray, yt: np.ndarray, w: np.ndarray) -> float:
    f = Xt @ m.coef.T + m.intercept
    logp = f - np.logaddexp.reduce(f, axis=1, keepdims=True)
    idx = np.searchsorted(m.classes, yt)
    return float(-np.sum(w * logp[np.arange(len(yt)), idx]) / np.sum(w))


# the last field: how closely the CV (warm-started paths) and the loop (cold fits) agree: to
# 1e-10 where both solve exactly (normal equations; coordinate descent to tol 1e-12), to the
# iterative solvers' accuracy otherwise (L-BFGS stops within ~1e-9 of the optimum's scores)
CASES = [
    ("regression", "l2", "l2", None, Y_REG, _mse, 1e-10),
    ("regression", "l2", "l1", None, Y_REG, _mse, 1e-10),
    ("regression", "huber", "elastic_net", "r2", Y_REG, _huber_r2, 1e-8),
    (
        "classification",
        "softmax_cross_entropy",
        "l2",
        "log_loss",
        Y_CLS,
        _multinomial_log_loss,
        1e-7,
    ),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("task", "loss", "penalty", "scoring", "y", "score", "rtol"),
    CASES,
    ids=[c[1] + "-" + c[2] for c in CASES],
)
def test_mean_scores_equal_a_hand_written_loop(
    task: str,
    loss: str,
    penalty: str,
    scoring: str | None,
    y: Any,
    score: Any,
    rtol: float,
    weighted: bool,
) -> None:
    grid = [0.5, 0.05, 0.005]
    weights = WEIGHTS if weighted else None
    cv = lt.cross_validate(X, y, task=task, loss=loss, penalty=penalty, alphas=grid, cv=5,
                           scoring=scoring, sample_weight=weights, tol=1e-12, random_state=1)  # fmt: skip
    hand = _hand_scores(task, loss, penalty, grid, cv.folds, y, weights, score)
    np.testing.assert_allclose(cv.scores, hand, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(cv.mean, hand.mean(axis=0), rtol=rtol)
    np.testing.assert_allclose(cv.std_error, hand.std(axis=0, ddof=1) / math.sqrt(5), rtol=1e-8)


def _mae(m: Any, Xt: np.ndarray, yt: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * np.abs(yt - Xt @ m.coef - m.intercept)) / np.sum(w))


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty", ["l2", "elastic_net"])
def test_squared_error_folds_from_moments_equal_cold_fits(
    fit_intercept: bool, penalty: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Squared-error folds are solved from all rows' moments minus the held-out rows' (no
    pass and no set-up per fold): their scores equal cold fits on the fold's rows, with
    standardisation, weights, a column with a large offset, and a column that is zero on
    every training row of one fold (that fold gets its own pass: the subtraction would
    leave only rounding noise of its variance)."""
    import losscore.train.cv as cv_module

    grid = [0.3, 0.03, 0.003]
    folds = lt.cross_validate(X, Y_REG, task="regression", loss="l2", alphas=grid, cv=5,
                              random_state=2).folds  # fmt: skip
    offset = 1e4 + np.random.default_rng(3).normal(size=N)
    Xm = np.column_stack([X, offset, (folds == 3).astype(float)])
    prepared: list[int] = []
    real_prepare = cv_module.prepare_fit
    monkeypatch.setattr(
        cv_module, "prepare_fit", lambda *a, **k: prepared.append(1) or real_prepare(*a, **k)
    )
    opts = {"penalty": penalty, "fit_intercept": fit_intercept, "standardize": True}
    cv = lt.cross_validate(Xm, Y_REG, task="regression", loss="l2", alphas=grid, cv=5,
                           scoring="mae", sample_weight=WEIGHTS, tol=1e-12, random_state=2,
                           **opts)  # fmt: skip
    np.testing.assert_array_equal(cv.folds, folds)
    assert len(prepared) == 2  # all the rows, and the fold with the indicator column
    out = np.empty((5, len(grid)))
    for j in range(5):
        tr, te = folds != j, folds == j
        for i, a in enumerate(grid):
            m = lt.fit(Xm[tr], Y_REG[tr], task="regression", loss="l2", alpha=a,
                       sample_weight=WEIGHTS[tr], tol=1e-12, **opts)  # fmt: skip
            out[j, i] = _mae(m, Xm[te], Y_REG[te], WEIGHTS[te])
    np.testing.assert_allclose(cv.scores, out, rtol=1e-9)


def test_weights_change_the_scores_as_the_formula_says() -> None:
    """Same folds, weighted vs unweighted: each equals its own formula (weights in the fits
    and in the held-out means), and the two differ."""
    grid = [0.1]
    resid = Y_REG - X @ np.linalg.lstsq(X, Y_REG, rcond=None)[0]
    heavy = np.where(np.abs(resid) > np.median(np.abs(resid)), 5.0, 1.0)
    plain = lt.cross_validate(X, Y_REG, task="regression", loss="l2", alphas=grid, cv=3,
                              random_state=2)  # fmt: skip
    weighted = lt.cross_validate(X, Y_REG, task="regression", loss="l2", alphas=grid, cv=3,
                                 random_state=2, sample_weight=heavy)  # fmt: skip
    np.testing.assert_array_equal(plain.folds, weighted.folds)
    hand_w = _hand_scores("regression", "l2", "l2", grid, weighted.folds, Y_REG, heavy, _mse)
    hand_u = _hand_scores("regression", "l2", "l2", grid, plain.folds, Y_REG, None, _mse)
    np.testing.assert_allclose(weighted.scores, hand_w, rtol=1e-10)
    np.testing.assert_allclose(plain.scores, hand_u, rtol=1e-10)
    assert abs(weighted.mean[0] - plain.mean[0]) > 1e-3 * plain.mean[0]


def test_the_one_standard_error_rule_and_the_final_model() -> None:
    cv = lt.cross_validate(X, Y_REG, task="regression", loss="huber", penalty="l1", n_alphas=12,
                           cv=5, select="one_se")  # fmt: skip
    mean = cv.scores.mean(axis=0)
    se = cv.scores.std(axis=0, ddof=1) / math.sqrt(5)
    best = int(np.argmin(mean))
    assert cv.alpha_min == cv.alphas[best]
    within = [i for i in range(len(mean)) if mean[i] <= mean[best] + se[best]]
    assert cv.alpha_one_se == cv.alphas[min(within)] >= cv.alpha_min
    assert cv.alpha == cv.alpha_one_se
    refit = lt.fit(X, Y_REG, task="regression", loss="huber", penalty="l1", alpha=cv.alpha)
    assert cv.model.objective == pytest.approx(refit.objective, rel=1e-8)
    assert cv.model.alpha == cv.alpha and len(cv.path.fits) == len(cv.alphas)
    acc = lt.cross_validate(X, Y_CLS, task="classification", loss="log_loss", n_alphas=6,
                            cv=3, scoring="accuracy")  # fmt: skip
    assert acc.greater_is_better and acc.mean[list(acc.alphas).index(acc.alpha_min)] == max(
        acc.mean
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"cv": 1}, "cv", "[2,"),
        ({"cv": 200}, "cv", "[2,"),
        ({"cv": 2.0}, "cv", "integer"),
        ({"scoring": "accuracy"}, "scoring", "not a regression score"),
        ({"groups": [0, 1] * 45, "cv": 3}, "groups", "fewer than the 3 folds"),
        ({"groups": [0, 1, 2]}, "groups", "90 group labels"),
        ({"alphas": [0.1, 1.0]}, "alphas", "strictly decreasing"),
        ({"select": "best"}, "select", "'min' or 'one_se'"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        lt.cross_validate(X, Y_REG, task="regression", loss="l2", **kwargs)
    assert err.value.field == field and reason in str(err.value)


def test_too_few_members_of_a_class_per_fold() -> None:
    y = Y_CLS.copy()
    y[:3] = "rare"
    y[3:] = np.where(y[3:] == "rare", "cat", y[3:])
    with pytest.raises(InvalidParameterError) as err:
        lt.cross_validate(X, y, task="classification", loss="log_loss", cv=5)
    assert err.value.field == "cv" and "only 3 samples" in str(err.value)
    with pytest.raises(InvalidParameterError) as err:
        lt.cross_validate(X, Y_CLS, task="classification", loss="hinge", scoring="log_loss")
    assert err.value.field == "scoring"


def test_separable_folds_with_equal_scores_choose_without_error() -> None:
    """Every fold scores accuracy 1 at the best α (standard error 0): both rules still pick
    an α (the one-SE rule the largest α at that score)."""
    Xs = np.vstack([RNG.normal(-4, 0.3, size=(30, 2)), RNG.normal(4, 0.3, size=(30, 2))])
    ys = np.array(["a"] * 30 + ["b"] * 30)
    cv = lt.cross_validate(Xs, ys, task="classification", loss="log_loss", scoring="accuracy",
                           cv=3, n_alphas=6, select="one_se")  # fmt: skip
    perfect = [i for i in range(6) if cv.mean[i] == 1.0]
    assert perfect and cv.alpha_one_se == cv.alphas[min(perfect)]


def test_r2_of_a_constant_held_out_fold_follows_scikit_learn() -> None:
    from sklearn.metrics import r2_score

    groups = np.repeat(np.arange(6), 15)
    y = Y_REG.copy()
    y[groups == 0] = 3.0  # one group, one fold: constant targets
    cv = lt.cross_validate(X, y, task="regression", loss="l2", alphas=[0.1], cv=3,
                           groups=groups, shuffle=False, scoring="r2")  # fmt: skip
    for j in range(3):
        test = cv.folds == j
        train = ~test
        m = lt.fit(X[train], y[train], task="regression", loss="l2", alpha=0.1)
        want = r2_score(y[test], X[test] @ m.coef + m.intercept)
        assert cv.scores[j, 0] == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_a_fold_without_weight_is_refused() -> None:
    groups = np.repeat(np.arange(6), 15)
    w = np.ones(N)
    w[groups == 2] = 0.0
    with pytest.raises(InvalidParameterError) as err:
        lt.cross_validate(X, Y_REG, task="regression", loss="l2", cv=6, groups=groups,
                          sample_weight=w)  # fmt: skip
    assert err.value.field == "sample_weight" and "zero total weight" in str(err.value)


def test_cancel_stops_a_cross_validation() -> None:
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(lt.FitCancelled):
        lt.cross_validate(X, Y_REG, task="regression", loss="huber", penalty="l1", cv=3,
                          n_alphas=10, cancel=cancel)  # fmt: skip

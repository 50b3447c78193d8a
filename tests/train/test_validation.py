"""Bad data and bad options raise LosscoreError naming the field (and index)."""

from __future__ import annotations

import numpy as np
import pytest

from losscore.errors import (
    InvalidInputError,
    InvalidParameterError,
    LosscoreError,
    UnknownNameError,
)
from losscore.train import fit, predict

X = np.arange(12.0).reshape(6, 2)
Y = np.array([0, 1, 0, 1, 0, 1])


def err(**kw):
    args = {"task": "classification", "loss": "hinge", **kw}
    Xv = args.pop("X", X)
    yv = args.pop("y", Y)
    with pytest.raises(LosscoreError) as info:
        fit(Xv, yv, **args)
    return info.value


def test_nan_inf_named_with_index():
    Xn = X.copy()
    Xn[3, 1] = np.nan
    e = err(X=Xn)
    assert (e.field, e.index) == ("X", (3, 1))
    Xi = X.copy()
    Xi[2, 0] = np.inf
    assert err(X=Xi).index == (2, 0)
    e = err(y=np.array([0.0, 1, np.nan, 1, 0, 1]))
    assert (e.field, e.index) == ("y", (2,))


def test_empty_and_shapes():
    assert "n = 0" in err(X=np.zeros((0, 2)), y=np.zeros(0)).reason
    assert "d = 0" in err(X=np.zeros((6, 0))).reason
    assert err(X=np.zeros(6)).field == "X"
    e = err(y=Y[:5])
    assert e.field == "y"
    assert "rows" in e.reason
    assert err(sample_weight=np.ones(5)).field == "sample_weight"
    assert err(sample_weight=-np.ones(6)).index == (0,)


def test_one_class_and_labels():
    e = err(y=np.ones(6))
    assert isinstance(e, InvalidInputError)
    assert "two classes" in e.reason
    e = err(task="regression", loss="l2", y=np.array(["a", "b"] * 3))
    assert e.field == "y"
    e = err(task="regression", loss="hinge")
    assert isinstance(e, InvalidParameterError)
    assert e.field == "loss.name"
    assert "classification loss" in e.reason
    assert err(loss="binary_cross_entropy").field == "loss.name"
    assert isinstance(err(loss="nope"), UnknownNameError)


def test_bad_params():
    assert err(penalty="l3").field == "penalty.name"
    assert err(alpha=-1.0).field == "penalty.alpha"
    assert err(penalty="elastic_net", l1_ratio=2.0).field == "penalty.l1_ratio"
    assert err(max_iter=0).field == "max_iter"
    assert err(tol=0.0).field == "tol"
    assert err(time_limit_s=-1.0).field == "time_limit_s"
    assert err(task="ranking").field == "task"
    assert err(loss_params={"threshold": -1.0}).field == "loss.threshold"
    assert err(class_weight="uniform").field == "class_weight"
    assert err(class_weight={7: 1.0}).field == "class_weight.7"
    classes = np.unique(Y).tolist()
    assert err(class_weight={classes[0]: 0.0}).field == f"class_weight.{classes[0]}"
    assert err(class_weight=dict.fromkeys(classes, 0)).field.startswith("class_weight.")
    assert err(class_weight={classes[0]: -1.0}).field == f"class_weight.{classes[0]}"
    assert err(task="regression", loss="l2", class_weight="balanced").field == "class_weight"


def test_predict_checks_features():
    r = fit(X, Y, task="classification", loss="log_loss")
    with pytest.raises(InvalidInputError) as info:
        predict(r, np.zeros((2, 3)))
    assert "features" in info.value.reason
    assert isinstance(info.value, ValueError)

"""Every error case: the right losscore error class, ``.field``, ``.index`` and a reason."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import losscore
from losscore import InvalidInputError, InvalidParameterError, LosscoreError, UnknownNameError

NAMES = list(losscore.loss_names())
MULTICLASS = [n for n in NAMES if losscore.get_loss(n).kind == "multiclass"]
MARGIN = [n for n in NAMES if losscore.get_loss(n).kind == "binary" and n != "binary_cross_entropy"]


def _valid(name: str, shape: tuple[int, ...] = (2, 3)) -> tuple[np.ndarray, np.ndarray]:
    kind = losscore.get_loss(name).kind
    if kind == "multiclass":
        return np.zeros(shape), np.zeros(shape[:-1], dtype=np.int64)
    if name == "binary_cross_entropy":
        return np.full(shape, 0.5), np.full(shape, 0.25)
    if kind == "binary":
        return np.zeros(shape), np.ones(shape)
    return np.zeros(shape), np.zeros(shape)


def _raises(cls: type[LosscoreError], name: str, f: Any, y: Any, **kw: Any) -> LosscoreError:
    with pytest.raises(cls) as info:
        losscore.evaluate(name, f, y, **kw)
    err = info.value
    assert isinstance(err, ValueError)  # every losscore error is a ValueError
    assert err.reason
    assert str(err).startswith(err.location)
    return err


# -- non-finite values ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("argument", ["prediction", "target", "weight"])
def test_non_finite_values_name_the_argument_and_first_index(
    name: str, bad: float, argument: str
) -> None:
    f, y = _valid(name)
    w = np.ones(f.shape[:-1] if losscore.get_loss(name).kind == "multiclass" else f.shape)
    arrays = {"prediction": f, "target": y.astype(np.float64), "weight": w}
    arr = arrays[argument]
    where = (1, 1) if arr.ndim == 2 else (1,)
    arr[where] = bad
    later = (1, 2) if arr.ndim == 2 else None
    if later is not None:
        arr[later] = bad  # only the first one is named
    err = _raises(
        InvalidInputError, name, arrays["prediction"], arrays["target"], weight=arrays["weight"]
    )
    assert err.field == argument
    assert err.index == where
    word = {"nan": "NaN", "inf": "+Infinity", "-inf": "-Infinity"}[repr(bad)]
    assert word in err.reason
    assert err.location == f"{argument}[{', '.join(map(str, where))}]"


def test_non_finite_in_a_3d_array_and_in_a_scalar() -> None:
    f = np.zeros((2, 3, 4))
    f[1, 0, 2] = np.nan
    err = _raises(InvalidInputError, "l2", f, np.zeros_like(f))
    assert (err.field, err.index) == ("prediction", (1, 0, 2))
    err = _raises(InvalidInputError, "l2", 1.0, np.inf)
    assert (err.field, err.index) == ("target", ())
    # float32 NaN as well
    f32 = np.zeros(5, dtype=np.float32)
    f32[3] = np.nan
    err = _raises(InvalidInputError, "huber", f32, np.zeros(5, dtype=np.float32))
    assert (err.field, err.index) == ("prediction", (3,))


def test_huge_but_finite_values_are_not_mistaken_for_non_finite() -> None:
    # their sum overflows, the values do not
    f = np.full(4, np.finfo(np.float64).max)
    res = losscore.evaluate("l1", f, f, reduction="sum")
    assert res.value == 0.0


# -- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in NAMES if n not in MULTICLASS])
def test_shape_mismatch_is_not_broadcast(name: str) -> None:
    f, y = _valid(name)
    for bad_target in (y[:, :1], y[0], y.T, y.reshape(-1), y[None]):
        err = _raises(InvalidInputError, name, f, bad_target)
        assert err.field == "target"
        assert "shape" in err.reason and "broadcast" in err.reason
    err = _raises(InvalidInputError, name, f, y, weight=np.ones(3))
    assert err.field == "weight"
    assert "shape" in err.reason
    err = _raises(InvalidInputError, name, f, y, weight=1.0)
    assert err.field == "weight"


@pytest.mark.parametrize("name", MULTICLASS)
def test_multiclass_shape_errors(name: str) -> None:
    f = np.zeros((4, 3))
    for bad_target in (np.zeros(3, dtype=int), np.zeros((4, 2)), np.zeros((4, 3, 1))):
        err = _raises(InvalidInputError, name, f, bad_target)
        assert err.field == "target"
        assert "[4, 3]" in err.reason
    err = _raises(InvalidInputError, name, f, np.zeros(4, dtype=int), weight=np.ones((4, 3)))
    assert err.field == "weight"


@pytest.mark.parametrize("name", MULTICLASS)
def test_multiclass_prediction_needs_k_at_least_2_and_an_axis(name: str) -> None:
    err = _raises(InvalidInputError, name, np.zeros((3, 1)), np.zeros(3, dtype=int))
    assert err.field == "prediction"
    assert "k >= 2" in err.reason
    err = _raises(InvalidInputError, name, 1.5, 0)
    assert err.field == "prediction"
    err = _raises(InvalidInputError, name, np.zeros((3, 0)), np.zeros(3, dtype=int))
    assert err.field == "prediction"


# -- weights ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_negative_weights_name_the_first_index(name: str) -> None:
    f, y = _valid(name, (3, 4))
    w = np.ones(f.shape[:-1] if name in MULTICLASS else f.shape)
    w.reshape(-1)[-1] = -1.0
    w.reshape(-1)[1] = -0.5
    err = _raises(InvalidInputError, name, f, y, weight=w)
    assert err.field == "weight"
    assert err.index == ((1,) if name in MULTICLASS else (0, 1))
    assert "-0.5" in err.reason


# -- names and parameters ---------------------------------------------------------------------


def test_unknown_loss_name_lists_the_valid_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        losscore.evaluate("hubber", [1.0], [1.0])
    err = info.value
    assert err.field == "loss.name"
    assert err.name == "hubber"
    assert set(losscore.loss_names()) <= set(err.valid)
    for name in losscore.loss_names():
        assert name in str(err)
    with pytest.raises(UnknownNameError):
        losscore.get_loss(3)  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError):
        losscore.loss_curve("")


def test_aliases_and_case_are_accepted() -> None:
    assert losscore.evaluate("MSE", [3.0], [0.0]).loss == "l2"
    assert losscore.evaluate(" mae ", [3.0], [0.0]).loss == "l1"


@pytest.mark.parametrize("name", NAMES)
def test_unknown_parameter(name: str) -> None:
    f, y = _valid(name)
    err = _raises(InvalidParameterError, name, f, y, gamma=1.0)
    assert err.field == "loss.gamma"
    assert name in err.reason
    for p in losscore.get_loss(name).spec.params:
        assert p.name in err.reason  # the valid parameters are listed


OUT_OF_BOUNDS = [
    ("smooth_l1", "beta", -0.1),
    ("smooth_l1", "beta", -1e-300),
    ("huber", "delta", 0.0),
    ("huber", "delta", -1.0),
    ("quantile", "q", 0.0),
    ("quantile", "q", 1.0),
    ("quantile", "q", 1.5),
    ("quantile", "q", -0.2),
    ("epsilon_insensitive", "epsilon", -0.1),
    ("squared_epsilon_insensitive", "epsilon", -1.0),
    ("hinge", "threshold", -1.0),
    ("squared_hinge", "threshold", -0.5),
    ("softmax_cross_entropy", "label_smoothing", 1.0000001),
    ("softmax_cross_entropy", "label_smoothing", -0.1),
    ("multiclass_hinge", "margin", -1.0),
    ("huber", "delta", float("nan")),
    ("huber", "delta", float("inf")),
    ("smooth_l1", "beta", float("inf")),
]


@pytest.mark.parametrize(("name", "param", "value"), OUT_OF_BOUNDS)
def test_out_of_bounds_parameters(name: str, param: str, value: float) -> None:
    f, y = _valid(name)
    err = _raises(InvalidParameterError, name, f, y, **{param: value})
    assert err.field == f"loss.{param}"
    assert err.index is None
    assert "must lie in" in err.reason


@pytest.mark.parametrize("value", ["1.0", None, [1.0], True, 1 + 0j])
def test_non_number_parameters(value: Any) -> None:
    err = _raises(InvalidParameterError, "huber", [1.0], [0.0], delta=value)
    assert err.field == "loss.delta"
    assert "number" in err.reason


def test_boundary_parameters_are_accepted() -> None:
    assert losscore.evaluate("smooth_l1", [1.0], [0.0], beta=0.0).value == 1.0
    assert losscore.evaluate("softmax_cross_entropy", [[0.0, 0.0]], [0], label_smoothing=1.0).value
    assert losscore.evaluate("epsilon_insensitive", [1.0], [0.0], epsilon=0.0).value == 1.0
    assert losscore.evaluate("hinge", [1.0], [1], threshold=0.0).value == 0.0
    assert losscore.evaluate("huber", [1.0], [0.0], delta=5e-324).value is not None


@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", None, "elementwise"])
def test_bad_reduction(reduction: Any) -> None:
    err = _raises(InvalidParameterError, "l2", [1.0], [0.0], reduction=reduction)
    assert err.field == "reduction"
    assert "mean" in err.reason and "sum" in err.reason and "none" in err.reason


# -- binary labels ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", MARGIN)
@pytest.mark.parametrize("bad", [2, 0.5, -2, 3.0, -0.999])
def test_binary_labels_outside_the_conventions(name: str, bad: float) -> None:
    y = np.array([[1.0, -1.0, 1.0], [1.0, bad, bad]])
    err = _raises(InvalidInputError, name, np.zeros((2, 3)), y)
    assert err.field == "target"
    assert err.index == (1, 1)
    assert repr(float(bad)) in err.reason or repr(bad) in err.reason


@pytest.mark.parametrize("name", MARGIN)
def test_binary_labels_mixing_zero_and_minus_one(name: str) -> None:
    y = np.array([1, 0, 1, -1, 0, -1])
    err = _raises(InvalidInputError, name, np.zeros(6), y)
    assert err.field == "target"
    # the first label that contradicts the convention set by an earlier one
    assert err.index == (3,)
    assert "mix" in err.reason
    err = _raises(InvalidInputError, name, np.zeros(3), np.array([-1, 1, 0]))
    assert err.index == (2,)


@pytest.mark.parametrize("name", MARGIN)
def test_constant_labels_are_fine(name: str) -> None:
    """A single class is not an error; only other values are (never a silently constant loss)."""
    for labels in ([1, 1], [0, 0], [-1, -1]):
        assert losscore.evaluate(name, [0.5, -0.5], labels).value is not None


def test_binary_cross_entropy_probabilities_outside_0_1() -> None:
    err = _raises(
        InvalidInputError, "binary_cross_entropy", [0.5, 1.0000001, -1.0], [0.0, 1.0, 0.0]
    )
    assert (err.field, err.index) == ("prediction", (1,))
    err = _raises(InvalidInputError, "binary_cross_entropy", [[0.5, 0.5]], [[0.0, -0.1]])
    assert (err.field, err.index) == ("target", (0, 1))
    err = _raises(InvalidInputError, "binary_cross_entropy", [0.5], [2])
    assert (err.field, err.index) == ("target", (0,))
    err = _raises(InvalidInputError, "bce", 1.5, 1.0)
    assert (err.field, err.index) == ("prediction", ())


# -- class targets ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", MULTICLASS)
def test_class_index_out_of_range_or_not_integral(name: str) -> None:
    f = np.zeros((2, 3, 4))
    for bad, idx in ((4, (1, 2)), (-1, (1, 2)), (2.5, (1, 2)), (1e300, (1, 2))):
        y = np.zeros((2, 3))
        y[1, 2] = bad
        err = _raises(InvalidInputError, name, f, y)
        assert (err.field, err.index) == ("target", idx)
        assert ("[0, 4)" in err.reason) or ("integer" in err.reason)
    err = _raises(InvalidInputError, name, f, np.zeros((2, 3), dtype=bool))
    assert err.field == "target"
    # integer-valued floats are accepted as indices
    assert losscore.evaluate(name, f, np.full((2, 3), 3.0)).value is not None


def test_probability_rows_must_be_non_negative_and_sum_to_one() -> None:
    f = np.zeros((2, 2, 3))
    t = np.full((2, 2, 3), 1 / 3)
    t[1, 0] = [0.5, 0.5, 0.1]
    err = _raises(InvalidInputError, "softmax_cross_entropy", f, t)
    assert (err.field, err.index) == ("target", (1, 0))
    assert "sum to 1" in err.reason
    t = np.full((2, 2, 3), 1 / 3)
    t[0, 1] = [1.5, -0.5, 0.0]
    err = _raises(InvalidInputError, "softmax_cross_entropy", f, t)
    assert (err.field, err.index) == ("target", (0, 1, 1))
    assert ">= 0" in err.reason


def test_multiclass_hinge_rejects_probability_targets() -> None:
    err = _raises(InvalidInputError, "multiclass_hinge", np.zeros((2, 3)), np.full((2, 3), 1 / 3))
    assert err.field == "target"
    assert "class indices" in err.reason


# -- malformed arrays -------------------------------------------------------------------------

MALFORMED = [
    ([[1.0, 2.0], [3.0]], "rectangular"),
    (np.array(["1.0", "2.0"]), "real numbers"),
    (["a", "b"], "real numbers"),
    (np.array([1 + 2j, 3.0]), "real numbers"),
    (np.array([1.0, 2.0], dtype=object), "real numbers"),
    (None, "real numbers"),
    ({"a": 1.0}, "real numbers"),
    (np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"), "real numbers"),
]


@pytest.mark.parametrize(
    ("bad", "why", "argument"),
    [
        (bad, why, argument)
        for bad, why in MALFORMED
        for argument in ("prediction", "target", "weight")
        if not (bad is None and argument == "weight")  # weight=None means unweighted
    ],
)
def test_malformed_arrays(bad: Any, why: str, argument: str) -> None:
    args: dict[str, Any] = {"prediction": [1.0, 2.0], "target": [0.0, 0.0], "weight": [1.0, 1.0]}
    args[argument] = bad
    err = _raises(
        InvalidInputError, "l2", args["prediction"], args["target"], weight=args["weight"]
    )
    assert err.field == argument
    assert why in err.reason


def test_errors_are_raised_before_any_work_in_argument_order() -> None:
    # the loss name first, then parameters, reduction, then arrays in order
    with pytest.raises(UnknownNameError):
        losscore.evaluate("nope", [np.nan], ["x"], delta=-1)
    with pytest.raises(InvalidParameterError) as info:
        losscore.evaluate("huber", [np.nan], ["x"], delta=-1)
    assert info.value.field == "loss.delta"
    with pytest.raises(InvalidInputError) as info2:
        losscore.evaluate("huber", [np.nan], [np.nan])
    assert info2.value.field == "prediction"

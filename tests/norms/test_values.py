"""Values against np.linalg and closed forms; dtypes, shapes, empty, 0-d and extreme inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings

from losscore import evaluate_norm

from . import _oracles as ref
from ._strategies import ALL, ENTRYWISE, norm_and_input


@settings(max_examples=150, deadline=None)
@given(norm_and_input())
def test_value_matches_reference(case: tuple[str, np.ndarray, dict[str, float]]) -> None:
    name, x, params = case
    got = evaluate_norm(name, x, **params).value
    assert isinstance(got, float)
    assert got == pytest.approx(ref.value(name, x, params), rel=1e-12, abs=1e-12)


def test_known_values() -> None:
    x = np.array([[3.0, -4.0], [0.0, 12.0]])
    assert evaluate_norm("l0", x).value == 3
    assert evaluate_norm("l1", x).value == 19
    assert evaluate_norm("l2", x).value == 13
    assert evaluate_norm("squared_l2", x).value == 169
    assert evaluate_norm("linf", x).value == 12
    assert evaluate_norm("elastic_net", x, alpha=2, l1_ratio=0.25).value == pytest.approx(
        2 * (0.25 * 19 + 0.75 / 2 * 169)
    )
    assert evaluate_norm("elastic_net", x, l1_ratio=1).value == 19
    assert evaluate_norm("elastic_net", x, l1_ratio=0).value == 169 / 2
    assert evaluate_norm("elastic_net", x, alpha=0).value == 0
    # Nuclear norm: np.linalg.norm(x, "nuc") is an independent implementation.
    assert evaluate_norm("nuclear", x).value == pytest.approx(np.linalg.norm(x, "nuc"), rel=1e-14)
    assert evaluate_norm("nuclear", np.diag([3.0, -2.0, 0.0])).value == pytest.approx(5.0)


def test_l2_of_a_matrix_is_frobenius() -> None:
    x = np.arange(12.0).reshape(3, 4) - 5
    assert evaluate_norm("l2", x).value == pytest.approx(np.linalg.norm(x, "fro"), rel=1e-15)
    assert evaluate_norm("l2", x.reshape(2, 3, 2)).value == pytest.approx(np.linalg.norm(x))


@pytest.mark.parametrize("name", ENTRYWISE)
def test_zero_d_is_a_length_one_vector(name: str) -> None:
    r = evaluate_norm(name, np.float64(-2.5), step=0.5)
    one = evaluate_norm(name, [-2.5], step=0.5)
    assert r.value == one.value
    assert r.subgradient.shape == () and r.prox is not None and r.prox.shape == ()
    assert one.prox is not None
    assert float(r.subgradient) == float(one.subgradient[0])
    assert float(r.prox) == float(one.prox[0])
    assert evaluate_norm(name, -2.5).value == one.value  # a bare Python float


_EMPTY_SHAPES = [(0,), (0, 3), (2, 0), (0, 0), (2, 0, 3)]


@pytest.mark.parametrize(
    ("name", "shape"),
    [(n, s) for n in ALL for s in _EMPTY_SHAPES if n != "nuclear" or len(s) == 2],
)
def test_empty_inputs(name: str, shape: tuple[int, ...]) -> None:
    r = evaluate_norm(name, np.zeros(shape), step=1.0)
    assert r.value == 0.0
    assert r.subgradient.shape == shape
    assert r.prox is not None and r.prox.shape == shape


@pytest.mark.parametrize("name", ALL)
def test_zero_input(name: str) -> None:
    r = evaluate_norm(name, np.zeros((3, 2)), step=1.0)
    assert r.value == 0.0
    assert np.all(r.subgradient == 0)
    assert r.prox is not None and np.all(r.prox == 0)


@pytest.mark.parametrize("name", ALL)
def test_float32_stays_float32(name: str) -> None:
    rng = np.random.default_rng(0)
    x64 = rng.normal(size=(4, 3))
    x32 = x64.astype(np.float32)
    r32 = evaluate_norm(name, x32, step=0.3)
    r64 = evaluate_norm(name, x32.astype(np.float64), step=0.3)
    assert r32.subgradient.dtype == np.float32
    assert r32.prox is not None and r32.prox.dtype == np.float32
    assert r32.value == pytest.approx(r64.value, rel=1e-6)
    assert r64.prox is not None
    np.testing.assert_allclose(r32.subgradient, r64.subgradient, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(r32.prox, r64.prox, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("x", "dtype"),
    [
        (np.array([1, -2, 0], dtype=np.int64), np.float64),
        (np.array([1, -2, 0], dtype=np.int8), np.float64),
        (np.array([True, False]), np.float64),
        (np.array([1, -2], dtype=np.float16), np.float32),
        ([1, 2.5], np.float64),
    ],
)
def test_dtype_rule(x: object, dtype: type) -> None:
    r = evaluate_norm("l1", x, step=0.5)
    assert r.subgradient.dtype == dtype
    assert r.prox is not None and r.prox.dtype == dtype


@pytest.mark.parametrize("name", ALL)
def test_input_untouched_and_outputs_not_views(name: str) -> None:
    x = np.array([[1.5, -2.0], [0.0, 4.0]])
    before = x.copy()
    params = {"alpha": 0.0} if name == "elastic_net" else {}  # alpha = 0: prox is x itself
    r = evaluate_norm(name, x, step=1e-300, **params)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(r.subgradient, x)
    assert r.prox is not None and not np.shares_memory(r.prox, x)


def test_huge_entries_do_not_overflow() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = np.full(4, 1e200)
        assert evaluate_norm("l2", big).value == pytest.approx(2e200, rel=1e-15)
        np.testing.assert_allclose(evaluate_norm("l2", big).subgradient, 0.5, rtol=1e-15)
        near_max = np.array([1.5e308, -1.5e308])
        assert evaluate_norm("l2", near_max).value == math.inf  # true value 2.1e308 > max
        assert evaluate_norm("linf", near_max).value == 1.5e308
        np.testing.assert_allclose(
            evaluate_norm("l2", near_max).subgradient, [2**-0.5, -(2**-0.5)], rtol=1e-15
        )
        assert evaluate_norm("squared_l2", big).value == math.inf  # 4e400: honest overflow
        assert evaluate_norm("squared_l2", np.full(4, 1e150)).value == pytest.approx(4e300)
        tiny = np.full(4, 1e-200)
        assert evaluate_norm("l2", tiny).value == pytest.approx(2e-200, rel=1e-15)
        assert evaluate_norm("squared_l2", np.full(4, 1e-160)).value == pytest.approx(4e-320)
        m = np.array([[1.0, 2.0], [3.0, 4.0]])
        assert evaluate_norm("nuclear", 1e300 * m).value == pytest.approx(
            1e300 * np.linalg.norm(m, "nuc"), rel=1e-14
        )
        assert evaluate_norm("nuclear", 1e-300 * m).value == pytest.approx(
            1e-300 * np.linalg.norm(m, "nuc"), rel=1e-14
        )
        assert evaluate_norm("elastic_net", big, l1_ratio=1.0).value == 4e200
        assert evaluate_norm("elastic_net", big, l1_ratio=0.5).value == math.inf


def test_float32_extremes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = np.full(4, 1e30, dtype=np.float32)
        r = evaluate_norm("l2", x, step=1e30)
        assert r.value == pytest.approx(2e30, rel=1e-6)
        np.testing.assert_allclose(r.subgradient, 0.5, rtol=1e-6)
        assert r.prox is not None
        np.testing.assert_allclose(r.prox, 0.5e30, rtol=1e-6)
        top = np.array([3e38, -3e38], dtype=np.float32)
        assert evaluate_norm("l2", top).value == pytest.approx(3e38 * math.sqrt(2), rel=1e-6)
        g = evaluate_norm("squared_l2", top).subgradient
        assert g.dtype == np.float32 and g.tolist() == [math.inf, -math.inf]  # 6e38 > float32 max
        huge_step = evaluate_norm("l1", top, step=1e300)
        assert huge_step.prox is not None and np.all(huge_step.prox == 0)
        assert evaluate_norm("nuclear", np.full((2, 2), 3e38, dtype=np.float32)).value == (
            pytest.approx(6e38, rel=1e-6)
        )

"""Registry, specs, and every error case with the field it names."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losscore
from losscore import (
    InvalidInputError,
    InvalidParameterError,
    NormResult,
    NormSpec,
    UnknownNameError,
    evaluate_norm,
    get_norm,
    list_norms,
    norm_names,
)

EXPECTED = ("l0", "l1", "l2", "squared_l2", "linf", "elastic_net", "nuclear")


def test_names_and_specs() -> None:
    assert norm_names() == EXPECTED
    specs = list_norms()
    assert [s.name for s in specs] == list(EXPECTED)
    for s in specs:
        assert isinstance(s, NormSpec)
        assert s.title and s.domain and s.formula and s.subgradient and s.prox and s.reference
        d = s.as_dict()
        assert d["name"] == s.name
        assert get_norm(s.name).spec is s
        for alias in s.aliases:
            assert get_norm(alias).name == s.name


def test_elastic_net_parameters_as_data() -> None:
    spec = get_norm("elastic_net").spec
    params = {p.name: p for p in spec.params}
    assert params["alpha"].default == 1.0
    assert params["l1_ratio"].default == 0.5
    assert params["alpha"].interval.contains(0.0)
    assert not params["alpha"].interval.contains(-1e-12)
    assert params["l1_ratio"].interval.contains(0.0)
    assert params["l1_ratio"].interval.contains(1.0)
    assert not params["l1_ratio"].interval.contains(1.0 + 1e-12)


def test_lookup_is_case_insensitive_and_accepts_instances() -> None:
    assert get_norm("  L2 ").name == "l2"
    assert get_norm("Frobenius").name == "l2"
    assert get_norm("trace").name == "nuclear"
    norm = get_norm("l1")
    assert get_norm(norm) is norm
    assert evaluate_norm(norm, [1.0, -2.0]).value == 3.0


def test_top_level_exports() -> None:
    for name in ("evaluate_norm", "get_norm", "list_norms", "norm_names", "NormResult", "Norm"):
        assert name in losscore.__all__
        assert hasattr(losscore, name)


@pytest.mark.parametrize("name", ["l3", "", "frobenius_norm", 3, None])
def test_unknown_name(name: object) -> None:
    with pytest.raises(UnknownNameError) as info:
        evaluate_norm(name, [1.0])  # type: ignore[arg-type]
    err = info.value
    assert err.field == "norm.name"
    assert err.valid == EXPECTED
    for valid in EXPECTED:
        assert valid in str(err)


def test_result_fields() -> None:
    r = evaluate_norm("elastic_net", [[1.0, -2.0]], step=0.25, alpha=2)
    assert isinstance(r, NormResult)
    assert r.norm == "elastic_net"
    assert r.params == {"alpha": 2.0, "l1_ratio": 0.5}
    assert r.step == 0.25
    assert r.shape == (1, 2)
    assert r.dtype == np.float64
    assert r.prox is not None and r.prox.shape == (1, 2)
    r2 = evaluate_norm("l1", [1.0])
    assert r2.prox is None and r2.step is None and r2.params == {}


@pytest.mark.parametrize(
    ("bad", "index"),
    [
        ([1.0, math.nan], (1,)),
        ([[1.0, 2.0], [3.0, -math.inf]], (1, 1)),
        ([[0.0, math.inf, math.nan]], (0, 1)),
    ],
)
@pytest.mark.parametrize("name", EXPECTED)
def test_non_finite_input(name: str, bad: list[object], index: tuple[int, ...]) -> None:
    x = np.array(bad, dtype=np.float64)
    if name == "nuclear":
        x = np.atleast_2d(x)
        index = index if len(index) == 2 else (0, *index)
    with pytest.raises(InvalidInputError) as info:
        evaluate_norm(name, x, step=1.0)
    assert info.value.field == "x"
    assert info.value.index == index


def test_non_finite_float32_and_float16() -> None:
    with pytest.raises(InvalidInputError) as info:
        evaluate_norm("l2", np.array([1, np.inf], dtype=np.float16))
    assert info.value.field == "x" and info.value.index == (1,)
    with pytest.raises(InvalidInputError) as info:
        evaluate_norm("l1", np.array([np.nan, 1], dtype=np.float32))
    assert info.value.index == (0,)


@pytest.mark.parametrize("shape", [(), (3,), (2, 2, 2), (1, 1, 1)])
def test_nuclear_needs_a_matrix(shape: tuple[int, ...]) -> None:
    with pytest.raises(InvalidInputError) as info:
        evaluate_norm("nuclear", np.ones(shape))
    assert info.value.field == "x"
    assert "2-D" in info.value.reason


@pytest.mark.parametrize("x", [["a", "b"], [1 + 2j], [[1.0, 2.0], [3.0]], [None]])
def test_non_numeric_input(x: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        evaluate_norm("l1", x)
    assert info.value.field == "x"


@pytest.mark.parametrize("step", [0, 0.0, -1.0, -1e-300, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("name", EXPECTED)
def test_bad_step_value(name: str, step: float) -> None:
    with pytest.raises(InvalidParameterError) as info:
        evaluate_norm(name, np.ones((2, 2)), step=step)
    assert info.value.field == "step"


@pytest.mark.parametrize("step", ["1", True, [1.0], np.array([1.0])])
def test_bad_step_type(step: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        evaluate_norm("l1", [1.0], step=step)  # type: ignore[arg-type]
    assert info.value.field == "step"


def test_step_accepts_numpy_and_int() -> None:
    assert evaluate_norm("l1", [3.0], step=np.float32(0.5)).step == 0.5
    assert evaluate_norm("l1", [3.0], step=2).step == 2.0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"alpha": -0.1}, "norm.alpha"),
        ({"alpha": math.inf}, "norm.alpha"),
        ({"alpha": math.nan}, "norm.alpha"),
        ({"alpha": "1"}, "norm.alpha"),
        ({"alpha": True}, "norm.alpha"),
        ({"l1_ratio": 1.5}, "norm.l1_ratio"),
        ({"l1_ratio": -0.5}, "norm.l1_ratio"),
        ({"beta": 1.0}, "norm.beta"),
    ],
)
def test_bad_elastic_net_params(params: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        evaluate_norm("elastic_net", [1.0], **params)
    assert info.value.field == field


@pytest.mark.parametrize("name", [n for n in EXPECTED if n != "elastic_net"])
def test_parameter_free_norms_reject_parameters(name: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        evaluate_norm(name, np.ones((2, 2)), alpha=1.0)
    assert info.value.field == "norm.alpha"


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="step"):
        evaluate_norm("l1", [1.0], step=-1)


def test_shared_registry_refuses_a_name_twice() -> None:
    """Loss and norm catalogs share one registry; an alias clash is a startup error."""
    from losscore._registry import Registry
    from losscore.norms import Norm, get_norm

    reg: Registry[Norm] = Registry("norm", Norm)
    reg.register(get_norm("l1"))
    with pytest.raises(RuntimeError, match="'manhattan' registered twice"):
        reg.register(
            type("Clash", (), {"spec": type("S", (), {"name": "x", "aliases": ("manhattan",)})})()
        )  # type: ignore[arg-type]
    assert reg.get(" MANHATTAN ", "f") is get_norm("l1")
    with pytest.raises(losscore.UnknownNameError) as info:
        reg.get("l2", "norm.name")
    assert info.value.valid == ("l1",)

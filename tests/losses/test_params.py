"""Loss parameters given as NumPy scalars behave like Python numbers; booleans are rejected."""

from __future__ import annotations

import numpy as np
import pytest

import losscore
from losscore.errors import InvalidParameterError


@pytest.mark.parametrize("delta", [np.float32(1.5), np.float64(1.5), 1.5])
def test_numpy_float_parameters_are_numbers(delta: object) -> None:
    r = losscore.evaluate("huber", [3.0], [0.0], delta=delta)
    # huber(r = 3, delta = 1.5) = 1.5 * (3 - 0.75)
    assert r.value == pytest.approx(1.5 * (3.0 - 0.75), rel=1e-15)
    assert r.params == {"delta": 1.5}


def test_numpy_integer_parameter() -> None:
    r = losscore.evaluate("huber", [3.0], [0.0], delta=np.int64(2))
    assert r.value == pytest.approx(2.0 * (3.0 - 1.0), rel=1e-15)


@pytest.mark.parametrize("flag", [True, np.True_])
def test_boolean_parameter_is_rejected(flag: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.evaluate("huber", [3.0], [0.0], delta=flag)
    assert info.value.field == "loss.delta"


def test_bce_curve_names_the_bound_that_is_out_of_range() -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("binary_cross_entropy", start=0.1, stop=1.5)
    assert info.value.field == "stop"
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("binary_cross_entropy", start=-0.5, stop=0.5)
    assert info.value.field == "start"

"""Hypothesis strategies shared by the norm tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

ENTRYWISE = ("l0", "l1", "l2", "squared_l2", "linf", "elastic_net")
ALL = (*ENTRYWISE, "nuclear")

_elements = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)
# Mix exact zeros and ties into the draws: kinks are where conventions matter.
_kinky = st.one_of(_elements, st.sampled_from([0.0, 1.0, -1.0, 2.5, -2.5]))


def arrays(max_dims: int = 3, max_side: int = 4, min_side: int = 1) -> st.SearchStrategy[Any]:
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=min_side, max_side=max_side),
        elements=_kinky,
    )


def matrices(max_side: int = 4) -> st.SearchStrategy[Any]:
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side),
        elements=_kinky,
    )


def vectors(n_max: int = 4) -> st.SearchStrategy[Any]:
    return hnp.arrays(np.float64, st.integers(1, n_max), elements=_kinky)


steps = st.sampled_from([1e-3, 0.1, 0.5, 1.0, 2.0, 3.7, 50.0])
elastic_params = st.fixed_dictionaries(
    {
        "alpha": st.sampled_from([0.0, 0.3, 1.0, 2.5]),
        "l1_ratio": st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]),
    }
)


@st.composite
def norm_and_input(
    draw: st.DrawFn, names: tuple[str, ...] = ALL
) -> tuple[str, Any, dict[str, float]]:
    name = draw(st.sampled_from(names))
    x = draw(matrices() if name == "nuclear" else arrays())
    params = draw(elastic_params) if name == "elastic_net" else {}
    return name, x, params

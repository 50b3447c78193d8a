"""A catalog loss as a gradient-boosting objective: per-sample gradient and Hessian.

Gradient boosting (XGBoost, LightGBM) fits each tree to the per-sample gradient gᵢ and
Hessian hᵢ of the loss at the current raw scores fᵢ (margins), and gives a leaf L the
Newton value

    w_L = −Σ_{i∈L} gᵢ / (Σ_{i∈L} hᵢ + λ),

where λ is the booster's L2 regulariser (XGBoost ``lambda``, LightGBM ``lambda_l2``). With
sample weights sᵢ, gᵢ = sᵢ·∂ℓ/∂f(fᵢ, yᵢ) and hᵢ = sᵢ·∂²ℓ/∂f²(fᵢ, yᵢ): ``losscore.evaluate``
with ``reduction="sum"`` and ``weight=s``, whose gradient is exactly that per element.

The Hessian policy (what hᵢ is) is chosen per loss from catalog data; see
:func:`default_hessian_policy` and docs/BOOSTING.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.evaluate import evaluate
from losscore.losses import Loss, get_loss

__all__ = [
    "HESSIAN_POLICIES",
    "Api",
    "BoostingObjective",
    "HessianPolicy",
    "booster_arrays",
    "boosting_objective",
    "check_api",
    "default_hessian_policy",
]

HessianPolicy = Literal["exact", "constant", "floor"]
"""``exact``: hᵢ = sᵢ·ℓ''(fᵢ). ``constant``: hᵢ = sᵢ·c (first-order boosting: a leaf gets
−Σg/(c·Σs + λ)). ``floor``: hᵢ = max(sᵢ·ℓ''(fᵢ), |gᵢ|/Δ), so that no sample's Newton step
|gᵢ/hᵢ| exceeds Δ (``max_step``) and no leaf value exceeds Δ in absolute value."""
HESSIAN_POLICIES: tuple[str, ...] = get_args(HessianPolicy)
Api = Literal["native", "sklearn"]
"""Which calling convention an adapter follows: the booster's own ``train`` function, or its
scikit-learn estimators."""


def check_api(api: str) -> None:
    if api not in get_args(Api):
        raise InvalidParameterError("api", f"must be 'native' or 'sklearn', got {api!r}")


def _resolve_loss(loss: str | Loss) -> Loss:
    obj = get_loss(loss, field="loss")
    spec = obj.spec
    if spec.kind == "multiclass":
        raise InvalidParameterError(
            "loss",
            f"{spec.name!r} takes one score per class (kind 'multiclass'); the boosting "
            "objectives support losses of one score per sample (regression and binary) only",
        )
    if spec.prediction != "score":
        raise InvalidParameterError(
            "loss",
            f"{spec.name!r} takes a {spec.prediction} as its prediction, but a booster passes "
            "raw scores (margins); use a loss on scores (for probabilities: log_loss on logits)",
        )
    return obj


def default_hessian_policy(loss: str | Loss, **params: Any) -> HessianPolicy:
    """The policy used when none is given, read from the catalog (never from the name):

    * ``constant`` when the loss is piecewise linear at *params*
      (:meth:`losscore.Loss.piecewise_linear`: l1, quantile, epsilon_insensitive, hinge,
      perceptron, smooth_l1 with beta = 0): ℓ'' = 0 almost everywhere, so the exact Newton
      value −G/(0 + λ) would be set by the regulariser alone;
    * ``floor`` when the loss has linear pieces elsewhere (``spec.training.linear_pieces``:
      huber, smooth_l1, modified_huber): ℓ'' = 0 on their linear tails while ℓ' is not;
    * ``exact`` otherwise (l2, pseudo_huber, log_cosh, squared_epsilon_insensitive,
      squared_hinge, exponential, log_loss): ℓ'' > 0 wherever ℓ' ≠ 0.
    """
    obj = _resolve_loss(loss)
    resolved = obj.spec.resolve(params)
    return _default_policy(obj, resolved)


def _default_policy(loss: Loss, params: dict[str, float]) -> HessianPolicy:
    if loss.piecewise_linear(params):
        return "constant"
    if loss.spec.training.linear_pieces:
        return "floor"
    return "exact"


def _default_max_step(loss: Loss, params: dict[str, float]) -> float:
    """Δ of the ``floor`` policy: the largest |x| of the loss's order-2 kinks (where its
    curvature changes: huber's delta, smooth_l1's beta, modified_huber's 1), else 1."""
    edges = [abs(x) for x, order in loss.kinks(params) if order == 2 and x != 0.0]
    return max(edges, default=1.0)


def _positive(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InvalidParameterError(field, f"must be a number, got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and out > 0):
        raise InvalidParameterError(field, f"must be finite and > 0, got {out!r}")
    return out


@dataclass(frozen=True)
class BoostingObjective:
    """One catalog loss with its parameters and Hessian policy, for a booster.

    Attributes:
        loss: the catalog loss.
        params: every loss parameter, defaults filled in.
        hessian_policy: ``exact``, ``constant`` or ``floor`` (:data:`HessianPolicy`).
        hessian_constant: c of the ``constant`` policy (None for the others).
        max_step: Δ of the ``floor`` policy (None for the others).
    """

    loss: Loss
    params: dict[str, Any]
    hessian_policy: HessianPolicy
    hessian_constant: float | None = None
    max_step: float | None = None

    @property
    def name(self) -> str:
        return self.loss.name

    def gradient_hessian(
        self, scores: Any, labels: Any, weights: Any = None
    ) -> tuple[FloatArray, FloatArray]:
        """Per-sample (gᵢ, hᵢ) at raw *scores* for *labels* (the catalog's convention: real
        targets, or binary labels in {0, 1} or {−1, +1}) and optional sample *weights*.

        gᵢ = sᵢ·∂ℓ/∂f; hᵢ by the policy. float32 scores and targets stay float32.

        Raises:
            InvalidInputError (``hessian_policy``): under ``exact``, when every hᵢ is 0
            while some gᵢ is not (every sample on a linear piece: no Newton step exists).
        """
        res = evaluate(
            self.loss,
            scores,
            labels,
            weight=weights,
            reduction="sum",
            hessian=True,
            **self.params,
        )
        g = res.gradient
        h = res.hessian
        assert h is not None
        if self.hessian_policy == "constant":
            assert self.hessian_constant is not None
            c = g.dtype.type(self.hessian_constant)
            if weights is None:
                h = np.full_like(g, c)
            else:
                h = np.multiply(np.asarray(weights, dtype=g.dtype).reshape(g.shape), c)
        elif self.hessian_policy == "floor":
            assert self.max_step is not None
            np.maximum(h, np.abs(g) / g.dtype.type(self.max_step), out=h)
        elif g.size and not h.any() and g.any():
            raise InvalidInputError(
                "hessian_policy",
                f"'exact': the Hessian of {self.name!r} is 0 at every sample while its "
                "gradient is not (every residual or margin lies on a linear piece), so no "
                "Newton step exists; use 'floor' or 'constant' (docs/BOOSTING.md)",
            )
        return g, h

    def value(self, scores: Any, labels: Any, weights: Any = None) -> float:
        """The weighted mean loss Σ sᵢ·ℓᵢ / Σ sᵢ at raw *scores* (the eval metric)."""
        params: dict[str, Any] = self.params
        res = evaluate(self.loss, scores, labels, weight=weights, reduction="mean", **params)
        assert res.value is not None
        return res.value


def boosting_objective(
    loss: str | Loss,
    *,
    hessian_policy: HessianPolicy | None = None,
    hessian_constant: float | None = None,
    max_step: float | None = None,
    **params: Any,
) -> BoostingObjective:
    """Validate *loss*, its *params* and the Hessian policy once; the booster adapters
    (:func:`losscore.integrations.xgboost_objective`, ``lightgbm_objective``) wrap the result.

    Args:
        loss: a catalog name or alias, or a :class:`~losscore.Loss`; one score per sample
            (regression or binary kind, prediction kind ``score``).
        hessian_policy: None for :func:`default_hessian_policy`.
        hessian_constant: c > 0 of the ``constant`` policy (default 1, as the built-in
            absolute-error and quantile objectives of XGBoost and LightGBM use).
        max_step: Δ > 0 of the ``floor`` policy, in score units (default: the largest |x| of
            the loss's order-2 kinks, e.g. huber's delta, else 1).
        **params: the loss's parameters (``delta=2.0``, ``q=0.9``…).

    Raises:
        UnknownNameError, InvalidParameterError (all ``ValueError``) naming the field:
        ``loss`` (multiclass or probability losses), ``loss.<param>``, ``hessian_policy``
        (unknown, or ``exact`` for a piecewise-linear loss), ``hessian_constant``,
        ``max_step`` (non-positive, or given for a policy that does not use it).
    """
    obj = _resolve_loss(loss)
    resolved = obj.spec.resolve(params)
    policy = _default_policy(obj, resolved) if hessian_policy is None else hessian_policy
    if policy not in HESSIAN_POLICIES:
        raise InvalidParameterError(
            "hessian_policy", f"must be one of {', '.join(HESSIAN_POLICIES)}, got {policy!r}"
        )
    if policy == "exact" and obj.piecewise_linear(resolved):
        raise InvalidParameterError(
            "hessian_policy",
            f"'exact' is refused for {obj.name!r} at these parameters: it is piecewise "
            "linear, its Hessian is 0 almost everywhere, so a leaf's Newton value "
            "−Σg/(Σh + λ) would be −Σg/λ, set by the regulariser alone; use 'constant' "
            "(its default) or 'floor'",
        )
    if hessian_constant is not None and policy != "constant":
        raise InvalidParameterError(
            "hessian_constant", f"applies to the 'constant' policy only, not {policy!r}"
        )
    if max_step is not None and policy != "floor":
        raise InvalidParameterError(
            "max_step", f"applies to the 'floor' policy only, not {policy!r}"
        )
    constant = None
    if policy == "constant":
        constant = (
            1.0 if hessian_constant is None else _positive("hessian_constant", hessian_constant)
        )
    step = None
    if policy == "floor":
        step = (
            _default_max_step(obj, resolved)
            if max_step is None
            else _positive("max_step", max_step)
        )
    return BoostingObjective(obj, resolved, policy, constant, step)


def booster_arrays(
    scores: NDArray[Any], labels: Any, weights: Any
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    """Scores as one value per sample (a booster's (n, 1) becomes (n,)), labels as an array,
    and weights or None (XGBoost gives an empty array, LightGBM None, when there are none)."""
    y = np.asarray(labels)
    f = np.asarray(scores)
    if f.ndim == 2 and f.shape[1] == 1:
        f = f[:, 0]
    if f.ndim != 1:
        raise InvalidInputError(
            "prediction",
            f"expected one score per sample, got shape {list(f.shape)} (multi-output and "
            "multiclass boosting are not supported)",
        )
    w = None if weights is None else np.asarray(weights)
    if w is not None and w.size == 0 and f.size != 0:
        w = None
    return f, y, w

"""Request bodies of ``/v1/train`` and ``/v1/models/{id}/predict``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from service.arrays import ArrayIn, Tensor

__all__ = [
    "LossIn",
    "PenaltyIn",
    "PredictRequest",
    "TrainOptions",
    "TrainRequest",
    "TrainUpload",
]


class LossIn(BaseModel):
    """A loss by name with its parameters, exactly as in ``/v1/evaluate``."""

    model_config = ConfigDict(extra="allow")
    name: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PenaltyIn(BaseModel):
    """R(w) and its strength: F = mean loss + alpha·R(w)."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["none", "l2", "l1", "elastic_net"] = "l2"
    alpha: float = Field(1e-4, ge=0.0)
    l1_ratio: float = Field(0.5, ge=0.0, le=1.0)


class TrainOptions(BaseModel):
    """The options of a fit (everything but the data)."""

    model_config = ConfigDict(extra="forbid")
    task: Literal["classification", "regression"]
    loss: LossIn
    penalty: PenaltyIn = PenaltyIn()
    class_weight: dict[str, float] | Literal["balanced"] | None = None
    fit_intercept: bool = True
    standardize: bool = False
    max_iter: int = Field(1000, ge=1, description="At most `LOSSCORE_TRAIN_MAX_ITER`.")
    tol: float = Field(1e-8, gt=0.0)
    time_limit_s: float | None = Field(
        None,
        gt=0.0,
        description="Wall-time limit in seconds; default and cap `LOSSCORE_TRAIN_MAX_SECONDS`.",
    )
    random_state: int | None = 0
    on_time_limit: Literal["return", "error"] = Field(
        "return",
        description=(
            "When the time limit stops the fit: `return` the best model so far "
            "(`converged: false`, `stop_reason: time_limit`), or answer a 422 `time_limit` error."
        ),
    )


class TrainRequest(TrainOptions):
    """Fit a linear model on (X, y); see docs/TRAINING.md for the objective and solvers."""

    X: ArrayIn = Field(description="Features, shape (n, d), in any array encoding.")
    y: list[StrictInt | StrictFloat | StrictStr | StrictBool] | Tensor = Field(
        description=(
            "Targets, shape (n,): a list of labels (numbers or strings) or values, or a "
            "numeric tensor object {shape, dtype, data|b64}."
        )
    )
    sample_weight: ArrayIn | None = Field(None, description="Non-negative weights, shape (n,).")


class TrainUpload(TrainOptions):
    """The ``request`` form field of a multipart training upload (JSON text).

    With a ``data`` CSV file part, ``target`` names the column holding y (every other
    column is a feature); with ``X`` and ``y`` ``.npy`` file parts it is not used.
    """

    target: str | None = Field(None, min_length=1, description="The CSV column holding y.")


class PredictRequest(BaseModel):
    """Rows to predict, shape (n, d) with the model's d."""

    model_config = ConfigDict(extra="forbid")
    X: ArrayIn = Field(
        description=(
            "Rows, shape (n, d), in any array encoding; decision_function and probability "
            "answer in the same encoding."
        )
    )

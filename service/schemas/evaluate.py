"""Bodies of ``POST /v1/evaluate`` and ``POST /v1/compare``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.arrays import MAX_DIMS, ArrayIn, ArrayOut, Encoding, OutNumber
from service.schemas.losses import LossIn

__all__ = [
    "BinaryEvaluateHeader",
    "CompareRequest",
    "CompareResponse",
    "DatasetEvaluateRequest",
    "DatasetEvaluateResponse",
    "EvaluateDataset",
    "EvaluateOutput",
    "EvaluateRequest",
    "EvaluateResponse",
    "OutputName",
]

Shape = Annotated[list[Annotated[int, Field(strict=True, ge=0)]], Field(max_length=MAX_DIMS)]
Reduction = Literal["mean", "sum", "none"]
OutputName = Literal["value", "elementwise", "gradient", "hessian"]
MAX_COMPARE = 32
OUTPUTS_DESCRIPTION = (
    "What to compute and return: any of value, elementwise, gradient, hessian (default: "
    "value, elementwise and gradient, plus hessian when `hessian` is true). Outputs not "
    "named are not computed and are null in the response: ['value'] reads the inputs once "
    "and writes no array of their size. 'value' needs reduction 'mean' or 'sum'."
)


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prediction: ArrayIn = Field(description="Predictions (logits/scores/probabilities/values).")
    target: ArrayIn = Field(description="Targets, labels or class indices.")
    weight: ArrayIn | None = Field(None, description="Optional non-negative sample weights.")
    reduction: Reduction = Field("mean", description="mean (weighted: Σwℓ/Σw), sum or none.")
    hessian: bool = Field(False, strict=True, description="Also return the Hessian diagonal.")
    outputs: list[OutputName] | None = Field(
        None, min_length=1, max_length=4, description=OUTPUTS_DESCRIPTION
    )
    encoding: Encoding | None = Field(
        None, description="Encoding of response arrays; default: that of `prediction`."
    )


class EvaluateRequest(_Common):
    """Evaluate one loss: value, per-element losses, gradient, optional Hessian."""

    loss: LossIn


class CompareRequest(_Common):
    """Evaluate several losses on the same inputs."""

    losses: list[LossIn] = Field(min_length=1, max_length=MAX_COMPARE)


class EvaluateResponse(BaseModel):
    """The result of one loss, as ``losscore.evaluate`` computes it.

    Numbers that overflow (e.g. the exponential loss at a margin below -709) are
    returned as ``"Infinity"``/``"-Infinity"`` and ``overflow`` is true.
    """

    loss: LossIn = Field(description="The loss with its canonical name and every parameter.")
    reduction: Reduction
    value: OutNumber | None = Field(
        description="The reduced loss; null for reduction 'none' or when not among `outputs`."
    )
    elementwise: ArrayOut | None = Field(
        description="w·ℓ per element (elementwise shape); null when not among `outputs`."
    )
    gradient: ArrayOut | None = Field(
        description="d value / d prediction (prediction shape); null when not among `outputs`."
    )
    hessian: ArrayOut | None = Field(description="Diagonal second derivative, if requested.")
    shape: list[int] = Field(description="The prediction's shape.")
    dtype: Literal["float32", "float64"]
    overflow: bool = Field(description="True when some returned number is ±Infinity.")


class CompareResponse(BaseModel):
    """One evaluate result per requested loss, in request order."""

    results: list[EvaluateResponse]


class BinaryEvaluateHeader(BaseModel):
    """The JSON part of the binary evaluate route (header or multipart field `request`).

    With ``application/octet-stream`` the body holds the arrays' little-endian bytes
    back to back: prediction, target, then weight if ``weight_shape`` is given.
    """

    model_config = ConfigDict(extra="forbid")

    loss: LossIn
    reduction: Reduction = "mean"
    hessian: bool = Field(False, strict=True)
    outputs: list[OutputName] | None = Field(
        None, min_length=1, max_length=4, description=OUTPUTS_DESCRIPTION
    )
    encoding: Encoding = Field("b64", description="Encoding of response arrays.")
    dtype: Literal["float32", "float64"] = Field(
        "float64", description="dtype of the raw arrays (octet-stream only)."
    )
    prediction_shape: Shape | None = Field(
        None, description="Shape of prediction (octet-stream; default: 1-d)."
    )
    target_shape: Shape | None = Field(
        None, description="Shape of target (octet-stream; default: prediction's shape)."
    )
    weight_shape: Shape | None = Field(
        None, description="Shape of weight, when weights follow (octet-stream)."
    )


class EvaluateDataset(BaseModel):
    """Where the predictions and targets are: a dataset under LOSSCORE_DATASET_ROOTS."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["parquet", "csv"]
    path: str = Field(min_length=1, max_length=4096, description="As `DatasetRef.path`.")
    prediction: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        max_length=10_000,
        description="The prediction column (one), or the k score columns of a multiclass loss.",
    )
    target: str = Field(min_length=1, description="The target (label) column.")
    weight: str | None = Field(None, min_length=1, description="The sample-weight column.")


class EvaluateOutput(BaseModel):
    """A directory under a dataset root, which must not exist yet, for ``part-*.parquet``
    files with the columns `loss` (w·ℓ) and `gradient` (`gradient_<j>` for k columns)."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=4096)


class DatasetEvaluateRequest(BaseModel):
    """Evaluate one loss over a dataset read where it lives (one pass on Dask)."""

    model_config = ConfigDict(extra="forbid")
    loss: LossIn
    dataset: EvaluateDataset
    reduction: Literal["mean", "sum"] = Field("mean", description="mean (weighted: Σwℓ/Σw) or sum.")
    output: EvaluateOutput | None = Field(
        None, description="Also write the per-row losses and gradients as Parquet here."
    )


class DatasetEvaluateResponse(BaseModel):
    """The reduced loss over a dataset."""

    loss: LossIn = Field(description="The loss with its canonical name and every parameter.")
    reduction: Literal["mean", "sum"]
    value: OutNumber
    rows: int
    weight_sum: float
    files: list[str] = Field(description="The Parquet files written (with `output`).")

"""Request bodies of ``/v1/train`` and ``/v1/models/{id}/predict``.

``loss`` is the union of the catalog's trainable losses (the same generated models as
``/v1/evaluate``'s, restricted to ``spec.training.tasks`` non-empty) and ``penalty`` the union
of the penalty catalog (:func:`losscore.train.list_penalties`), both discriminated on ``name``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from typing_extensions import TypeAliasType

import losscore
from losscore.train import list_penalties
from service.arrays import ArrayIn, Tensor
from service.errors import register_tags
from service.schemas.components import ref, register
from service.schemas.losses import LOSS_MODELS, LossParams
from service.schemas.params import WIDE_TAGS, NamedParams, build_union, named_union

Label = StrictInt | StrictFloat | StrictStr | StrictBool
"""A class label as the training data gave it (a number, a string or a boolean)."""

# Labels are all numbers, all strings or all booleans (mixed labels are refused), so a list
# of labels is one of three typed arrays: generated clients handle a oneOf of arrays of one
# primitive type each, but not arrays whose items are a union (openapi-generator's python
# client cannot validate bare values into a union inside a list).
_LABEL_ARRAYS = [
    ref("Array1D"),
    register("StringArray", {"type": "array", "items": {"type": "string"}}),
    register("BooleanArray", {"type": "array", "items": {"type": "boolean"}}),
]
if TYPE_CHECKING:
    Labels: TypeAlias = list[Any]
    Targets: TypeAlias = list[Any] | Tensor
else:
    Labels = TypeAliasType(
        "Labels",
        Annotated[
            list[Label],
            WithJsonSchema(
                {
                    "oneOf": _LABEL_ARRAYS,
                    "description": "Class labels: all numbers, all strings or all booleans.",
                }
            ),
        ],
    )
    Targets = TypeAliasType(
        "Targets",
        Annotated[
            list[Label] | Tensor,
            WithJsonSchema(
                {
                    "oneOf": [*_LABEL_ARRAYS, ref("Tensor")],
                    "description": (
                        "Targets, shape (n,): values or labels (all numbers, all strings or all "
                        "booleans), or a numeric tensor object."
                    ),
                }
            ),
        ],
    )
_CLASS_WEIGHT_SCHEMA: dict[str, Any] = {
    "oneOf": [
        register(
            "ClassWeights",
            {
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0},
                "description": "A weight per class label (the label as a string).",
            },
        ),
        {"type": "string", "enum": ["balanced"]},
    ],
    "description": "Per-class weights, or `balanced` (n / (k·count)).",
}
if TYPE_CHECKING:
    ClassWeight: TypeAlias = dict[str, float] | str
else:
    ClassWeight = TypeAliasType(
        "ClassWeight",
        Annotated[
            dict[str, Annotated[float, Field(strict=True)]] | Literal["balanced"],
            WithJsonSchema(_CLASS_WEIGHT_SCHEMA),
        ],
    )

__all__ = [
    "AlphaCV",
    "CVOptions",
    "Label",
    "Labels",
    "PathRequest",
    "PenaltyIn",
    "PenaltyParams",
    "PredictRequest",
    "TrainLossIn",
    "TrainOptions",
    "TrainRequest",
    "TrainUpload",
]


class CVOptions(BaseModel):
    """K-fold cross-validation of α (losscore.train.cross_validate; docs/TRAINING.md)."""

    model_config = ConfigDict(extra="forbid")
    folds: int = Field(5, ge=2, le=20, strict=True, description="K, the number of folds.")
    alphas: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = Field(
        None,
        min_length=1,
        description="The grid, strictly decreasing; default: `n_alphas` values from α₀ (the "
        "smallest all-zero α) down to `alpha_min_ratio`·α₀.",
    )
    n_alphas: int = Field(20, ge=1, strict=True, description="At most LOSSCORE_TRAIN_MAX_ALPHAS.")
    alpha_min_ratio: float = Field(1e-3, gt=0, lt=1, strict=True)
    scoring: Literal["loss", "accuracy", "log_loss", "r2", "mae", "pinball"] | None = Field(
        None, description="Held-out score; default `loss` (the training loss itself)."
    )
    select: Literal["min", "one_se"] = Field(
        "min", description="The best mean score, or the one-standard-error rule's α."
    )
    shuffle: bool = Field(True, strict=True)
    random_state: int | None = Field(0, strict=True, description="Seed of the fold shuffle.")
    groups: Labels | None = Field(
        None, description="Group labels (n,): grouped folds, no group in two folds."
    )


class AlphaCV(BaseModel):
    """`{"cv": {...}}`: choose α by cross-validation (the model stores the CV table)."""

    model_config = ConfigDict(extra="forbid")
    cv: CVOptions = Field(default_factory=CVOptions)


class PenaltyParams(NamedParams):
    """A penalty R(w) and its parameters: F = mean loss + alpha·R(w)."""

    def alpha_cv(self) -> CVOptions | None:
        """The cross-validation request, when α is one."""
        alpha = getattr(self, "alpha", None)
        return alpha.cv if isinstance(alpha, AlphaCV) else None


_penalty_union, PENALTY_MODELS = build_union(
    list_penalties(),
    suffix="Penalty",
    base=PenaltyParams,
    kind_doc="Penalty",
    widen={"alpha": AlphaCV},
)
register_tags(n for s in list_penalties() for n in (s.name, *s.aliases))
register_tags(WIDE_TAGS)
_DEFAULT_PENALTY = next(m for m in PENALTY_MODELS if m.__name__ == "L2Penalty")
_TRAINABLE = {s.name for s in losscore.list_losses() if s.trainable}
TRAIN_LOSS_MODELS = [
    m for m, s in zip(LOSS_MODELS, losscore.list_losses(), strict=True) if s.name in _TRAINABLE
]

if TYPE_CHECKING:
    PenaltyIn: TypeAlias = PenaltyParams
    TrainLossIn: TypeAlias = LossParams
else:
    PenaltyIn = _penalty_union
    TrainLossIn = named_union(
        "TrainableLoss",
        TRAIN_LOSS_MODELS,
        "A loss that training accepts (spec.training.tasks non-empty), selected by `name`.",
    )


class TrainOptions(BaseModel):
    """The options of a fit (everything but the data)."""

    model_config = ConfigDict(extra="forbid")
    task: Literal["classification", "regression"]
    loss: TrainLossIn = Field(
        description="A trainable loss with its parameters (the catalog says which task each trains)."
    )
    penalty: PenaltyIn = Field(
        default_factory=lambda: cast(PenaltyParams, _DEFAULT_PENALTY(name="l2")),
        description="R(w) with its parameters; default l2 with alpha 1e-4.",
    )
    class_weight: ClassWeight | None = Field(
        None, description="Per-class weights, or `balanced`; default none (all 1)."
    )
    # strict: "10", true or "no" where a number or boolean belongs are 422s, not converted
    fit_intercept: bool = Field(True, strict=True)
    standardize: bool = Field(False, strict=True)
    max_iter: int = Field(1000, ge=1, strict=True, description="At most `LOSSCORE_TRAIN_MAX_ITER`.")
    tol: float = Field(1e-8, gt=0.0, strict=True)
    time_limit_s: float | None = Field(
        None,
        gt=0.0,
        strict=True,
        description="Wall-time limit in seconds; default and cap `LOSSCORE_TRAIN_MAX_SECONDS`.",
    )
    random_state: int | None = Field(0, strict=True)
    on_time_limit: Literal["return", "error"] = Field(
        "return",
        description=(
            "When the time limit stops the fit: `return` the best model so far "
            "(`converged: false`, `stop_reason: time_limit`), or answer a 422 `time_limit` error."
        ),
    )


class DatasetRef(BaseModel):
    """A dataset the service reads where it lives (under LOSSCORE_DATASET_ROOTS), fitted on
    the Dask scheduler of LOSSCORE_DASK_SCHEDULER without passing through the request."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["parquet", "csv"]
    path: str = Field(
        min_length=1,
        max_length=4096,
        description="A file or directory (Parquet), or a file or glob (CSV), absolute or "
        "relative to the first dataset root; it must resolve under a dataset root.",
    )
    target: str = Field(min_length=1, description="The column holding y.")
    features: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="The feature columns; default every other column."
    )
    weight: str | None = Field(None, min_length=1, description="The column of sample weights.")


# a column of a table: its header name, or its 0-based position; a cell of a JSON record: a
# number or a label. Each a named oneOf of primitive components (generated clients type an
# inline anyOf of primitives as an empty interface)
_COLUMN = (
    Annotated[str, Field(min_length=1, max_length=1024)] | Annotated[int, Field(ge=0, strict=True)]
)
_COLUMN_SCHEMA = {
    "description": "A column name, or its 0-based index.",
    "oneOf": [
        register("ColumnName", {"type": "string", "minLength": 1, "maxLength": 1024}),
        register("ColumnIndex", {"type": "integer", "minimum": 0}),
    ],
}
_CELL_SCHEMA = {
    "description": "A number, or a label.",
    "oneOf": [
        register("CellNumber", {"type": "number"}),
        register("CellText", {"type": "string"}),
        register("CellBoolean", {"type": "boolean"}),
    ],
}


def _column(value: Any) -> str | int:
    """A column reference: one clear error instead of one per member of the union."""
    if isinstance(value, str) and 1 <= len(value) <= 1024:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("must be a column name (1 to 1024 characters) or a 0-based index")


def _cell(value: Any) -> float | int | str | bool:
    if isinstance(value, float | int | str | bool):
        return value
    raise ValueError("must be a number or a label (text or a boolean)")


if TYPE_CHECKING:
    Column: TypeAlias = str | int
    Cell: TypeAlias = float | int | str | bool
else:
    Column = TypeAliasType(
        "Column",
        Annotated[str | int, PlainValidator(_column), WithJsonSchema(_COLUMN_SCHEMA)],
    )
    Cell = TypeAliasType(
        "Cell",
        Annotated[float | int | str | bool, PlainValidator(_cell), WithJsonSchema(_CELL_SCHEMA)],
    )


class ColumnChoice(BaseModel):
    """Which columns of a table a fit reads: each a name or a 0-based index."""

    model_config = ConfigDict(extra="forbid")
    target: Column = Field(description="The column holding y.")
    features: list[Column] | None = Field(
        None,
        min_length=1,
        description="The feature columns, in the model's order; default every column that is "
        "not the target or the weight. The model stores their names.",
    )
    weight: Column | None = Field(None, description="The column of sample weights.")


class RecordsData(ColumnChoice):
    """Training data as JSON records (objects with the same keys), with the columns to use."""

    records: list[dict[str, Cell]] = Field(
        min_length=1, description='The rows, e.g. {"sepal_length": 5.1, "species": "setosa"}.'
    )


class TrainRequest(TrainOptions):
    """Fit a linear model on (X, y), or on a dataset read where it lives (``dataset``); see
    docs/TRAINING.md for the objective and solvers, docs/DISTRIBUTED.md for datasets."""

    X: ArrayIn | None = Field(
        None, description="Features, shape (n, d), in any array encoding (with y)."
    )
    y: Targets | None = None
    sample_weight: ArrayIn | None = Field(None, description="Non-negative weights, shape (n,).")
    dataset: DatasetRef | None = Field(
        None, description="Instead of X and y: a dataset under LOSSCORE_DATASET_ROOTS."
    )
    table: RecordsData | None = Field(
        None, description="Instead of X and y: JSON records and the columns to fit on."
    )


class PathRequest(TrainRequest):
    """`POST /v1/train/path`: the fit of `TrainRequest` at every α of a grid (the penalty's
    own alpha is not used); inline X and y only."""

    alphas: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = Field(
        None,
        min_length=1,
        description="The grid, strictly decreasing; default: `n_alphas` values from α₀ (the "
        "smallest all-zero α) down to `alpha_min_ratio`·α₀.",
    )
    n_alphas: int = Field(20, ge=1, strict=True, description="At most LOSSCORE_TRAIN_MAX_ALPHAS.")
    alpha_min_ratio: float = Field(1e-3, gt=0, lt=1, strict=True)


class TrainUpload(TrainOptions):
    """The ``request`` form field of a multipart training upload (JSON text).

    With a ``data`` file part (CSV with a header row, or Parquet), ``target``, ``features``
    and ``weight`` choose its columns (names or 0-based indices; the features default to every
    other column); with ``X`` and ``y`` ``.npy`` file parts they are not used.
    """

    target: Column | None = Field(None, description="The column of `data` holding y.")
    features: list[Column] | None = Field(
        None,
        min_length=1,
        description="The feature columns of `data`, in the model's order; default every "
        "column that is not the target or the weight. The model stores their names.",
    )
    weight: Column | None = Field(None, description="The column of `data` with sample weights.")


class PredictRequest(BaseModel):
    """Rows to predict: ``X`` (n, d) with the model's d, or ``records`` keyed by the model's
    feature names (models fitted on named columns)."""

    model_config = ConfigDict(extra="forbid")
    X: ArrayIn | None = Field(
        None,
        description=(
            "Rows, shape (n, d), in any array encoding; decision_function and probability "
            "answer in the same encoding."
        ),
    )
    records: list[dict[str, Cell]] | None = Field(
        None,
        min_length=1,
        description="Instead of X: one object per row with exactly the model's `feature_names` "
        "(a missing or extra key is a 422 naming it).",
    )

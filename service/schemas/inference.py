"""Bodies of the Open Inference Protocol routes (KServe v2 REST, ``/v2``).

Names follow the protocol's JSON objects (``$inference_request``, ``$request_input``, ...).
Tensor ``data`` is typed for the tensors these routes exchange: inputs are numbers (flat
row-major or nested), outputs a flat array of numbers, strings or booleans (one
``datatype`` each). ``parameters`` objects list the parameters the service reads; others
(e.g. tritonclient's ``priority``, ``timeout``) are accepted and ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema
from typing_extensions import TypeAliasType

from service.arrays import MAX_DIMS, MAX_TYPED_DEPTH, NestedList
from service.schemas.components import ref

__all__ = [
    "InferenceRequest",
    "InferenceRequestParameters",
    "InferenceResponse",
    "InputData",
    "InputParameters",
    "ModelMetadata",
    "ModelReady",
    "OutputData",
    "OutputDatatype",
    "OutputParameters",
    "RequestInput",
    "RequestOutput",
    "RequestOutputParameters",
    "ResponseOutput",
    "ServerLive",
    "ServerMetadata",
    "ServerReady",
    "TensorMetadata",
]

InputDatatype = Literal["FP32", "FP64"]
OutputDatatype = Literal["FP64", "INT64", "BOOL", "BYTES"]

if TYPE_CHECKING:
    InputData: TypeAlias = list[Any]
    OutputData: TypeAlias = list[Any]
else:
    InputData = TypeAliasType(
        "InputData",
        Annotated[
            NestedList,
            WithJsonSchema(
                {
                    "oneOf": [ref(f"Array{d}D") for d in range(1, MAX_TYPED_DEPTH + 1)],
                    "description": "Finite numbers, flat in row-major order or nested (any "
                    "rectangular nesting with as many numbers as the shape holds).",
                }
            ),
        ],
    )
    OutputData = TypeAliasType(
        "OutputData",
        Annotated[
            list[Any],
            WithJsonSchema(
                {
                    "oneOf": [ref("Array1D"), ref("StringArray"), ref("BooleanArray")],
                    "description": "The tensor's elements, flat in row-major order: numbers "
                    "(FP64, INT64), strings (BYTES) or booleans (BOOL).",
                }
            ),
        ],
    )

Dim = Annotated[int, Field(strict=True, ge=0)]


class InputParameters(BaseModel):
    """Parameters of one input tensor."""

    binary_data_size: int | None = Field(
        None,
        strict=True,
        ge=0,
        description="Binary tensor extension: the tensor's bytes follow the JSON header of "
        "the body (after the earlier binary inputs); `data` is then absent.",
    )


class RequestInput(BaseModel):
    """An input tensor (`$request_input`): the model's rows, shape [n, n_features]."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The model's input name (`X`, see the model's metadata).")
    shape: list[Dim] = Field(max_length=MAX_DIMS, description="[n, n_features].")
    datatype: InputDatatype
    parameters: InputParameters | None = None
    data: InputData | None = Field(
        None, description="The values (absent when `parameters.binary_data_size` is given)."
    )


class RequestOutputParameters(BaseModel):
    """Parameters of one requested output."""

    binary_data: StrictBool | None = Field(
        None,
        description="Send this output as raw little-endian bytes after the JSON header "
        "(binary tensor extension); default: the request's `binary_data_output`.",
    )
    classification: int | None = Field(
        None, description="The classification extension is not supported: refused (400)."
    )


class RequestOutput(BaseModel):
    """A requested output (`$request_output`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="`prediction`, `decision_function` or `probabilities`.")
    parameters: RequestOutputParameters | None = None


class InferenceRequestParameters(BaseModel):
    """Parameters of an inference request."""

    binary_data_output: StrictBool | None = Field(
        None, description="Send every output as raw bytes unless the output says otherwise."
    )


class InferenceRequest(BaseModel):
    """An inference request (`$inference_request`): one input `X` (FP32 or FP64, shape
    [n, n_features]); the outputs wanted (default: all the model has)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="Echoed in the response.")
    parameters: InferenceRequestParameters | None = None
    inputs: list[RequestInput] = Field(min_length=1, max_length=64)
    outputs: list[RequestOutput] | None = Field(None, max_length=64)


class OutputParameters(BaseModel):
    """Parameters of one output tensor of a response."""

    binary_data_size: int | None = Field(
        None,
        description="The output's bytes follow the JSON header (after the earlier binary "
        "outputs); `data` is then absent.",
    )


class ResponseOutput(BaseModel):
    """An output tensor (`$response_output`)."""

    name: str
    shape: list[int]
    datatype: OutputDatatype
    parameters: OutputParameters | None = None
    data: OutputData | None = None


class InferenceResponse(BaseModel):
    """An inference response (`$inference_response`)."""

    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[ResponseOutput]


class TensorMetadata(BaseModel):
    """A tensor a model takes or returns (`$metadata_tensor`); -1 marks a dimension of any
    size (the number of rows)."""

    name: str
    datatype: Literal["FP32", "FP64", "INT64", "BOOL", "BYTES"]
    shape: list[int]


class ModelMetadata(BaseModel):
    """A stored model as the protocol describes it (`$metadata_model_response`)."""

    name: str = Field(description="The model id.")
    versions: list[str] = Field(description='Always `["1"]`: a stored model never changes.')
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    """The server (`$metadata_server_response`)."""

    name: str
    version: str
    extensions: list[str]


class ServerLive(BaseModel):
    """Liveness (`$live_server_response`)."""

    live: bool


class ServerReady(BaseModel):
    """Readiness (`$ready_server_response`)."""

    ready: bool


class ModelReady(BaseModel):
    """A model's readiness (`$ready_model_response`)."""

    name: str
    ready: bool

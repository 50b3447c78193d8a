"""Property-based API testing over the whole OpenAPI document (in-process, bounded)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode, checks

from service.app import create_app
from service.settings import Settings

# fitted models go to a temporary store, not ./data
_settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="losscore-st-")), database_url=None)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_settings))
# schema-valid and schema-violating inputs alike: neither may produce a 5xx
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_conforms(case: schemathesis.Case) -> None:
    """No server errors, and every response conforms to its documented schema.

    ``positive_data_acceptance`` is left out: some schema-valid inputs are rejected on
    purpose (labels outside the convention, mismatched shapes, a mean over nothing).
    """
    case.call_and_validate(
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.negative_data_rejection,
        ]
    )

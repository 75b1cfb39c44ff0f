"""schemathesis against the signature endpoints' own OpenAPI schema: no 5xx, every reply as documented.

One rule is beyond JSON Schema: every row of a signature holds one number per named column. Requests the
schema allows but that break it are refused with a 422 naming the row, so the check that every
schema-valid request is accepted is left out here (the rule is tested in test_signatures_api.py).
"""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from siamdup import Siamese
from siamdup.serve import ServiceSettings, create_app
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.verifier import SignatureVerifier

TOKEN = "s3cret"
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def signature_schema(shipped_model: Siamese, tmp_path: Path):
    model = SignatureModel.untrained(seed=0, d_model=8, length=16)
    verifier = SignatureVerifier.open(tmp_path / "signatures", model)
    # A body limit well above the largest signature the schema allows: here every request meets the schema.
    settings = ServiceSettings(max_body_bytes=64 * 1024 * 1024)
    app = create_app(shipped_model, token=TOKEN, settings=settings, signatures=verifier)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=EXAMPLES_PER_OPERATION, deterministic=True
    )
    return schema


fuzzed = schemathesis.pytest.from_fixture("signature_schema").include(path_regex="^/signatures")


@fuzzed.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_signature_endpoints_conform_to_their_schema(case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance]
    )

"""schemathesis against the service's own OpenAPI schema, in process: no 5xx, every reply as documented
(with the tiny verifier loaded, so that generated `"verify": true` requests reach it)."""

from pathlib import Path

import pytest
import schemathesis
from helpers import FORUM_QUESTIONS
from hypothesis import HealthCheck, settings

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.serve import create_app
from siamdup.verify import Verifier

TOKEN = "s3cret"
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def service_schema(shipped_model: Siamese, random_verifier_dir: Path, tmp_path: Path):
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    stored = DuplicateIndex.load(index.save(tmp_path / "ix"), shipped_model)
    app = create_app(shipped_model, stored, TOKEN, verifier=Verifier.load(random_verifier_dir))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=EXAMPLES_PER_OPERATION, deterministic=True
    )
    return schema


fuzzed = schemathesis.pytest.from_fixture("service_schema")


@fuzzed.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_service_conforms_to_its_schema(case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

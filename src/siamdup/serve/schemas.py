"""What the service accepts and answers: request and reply models, with their limits in the schema.

Text fields are checked exactly as the OpenAPI schema states them (length counted before the surrounding
whitespace is stripped, and at least one character that is not whitespace), so a client validating
against /openapi.json and the service agree on every request.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_TEXT_CHARS = 1000
MAX_ID_CHARS = 200
MAX_PAIRS = 256
MAX_NEW_QUESTIONS = 1000
MAX_K = 100
NOT_ONLY_WHITESPACE = r"\S"


def _cleaned(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("must contain a character other than whitespace")
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate, which is not Unicode text") from None
    return stripped


def _stripped_text(max_chars: int, description: str) -> object:
    # The pattern is checked by `_cleaned` (Python's notion of whitespace, the one schema tools use
    # when generating examples), so it is written into the schema only.
    return Annotated[
        str,
        Field(
            min_length=1,
            max_length=max_chars,
            description=description,
            json_schema_extra={"pattern": NOT_ONLY_WHITESPACE},
        ),
        AfterValidator(_cleaned),
    ]


Text = _stripped_text(MAX_TEXT_CHARS, "A question; surrounding whitespace is ignored.")
QuestionId = _stripped_text(MAX_ID_CHARS, "Your id for it; a random one if left out.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairIn(_Strict):
    question1: Text  # type: ignore[valid-type]
    question2: Text  # type: ignore[valid-type]


def _verify_flag(what: str) -> Any:
    return Field(
        default=False,
        strict=True,
        description=f"Have the verifier (a cross-encoder reading both questions together) re-score {what} and "
        "decide; needs a service started with --verifier (else 400), at most its --max-verified-pairs pairs.",
    )


# Present only in answers to "verify": true, where `duplicate` is the verifier's decision.
VERIFICATION = "The verifier's calibrated P(duplicate); present with verify."
COSINE_DUPLICATE = "similarity > τ, the Siamese model's own decision; present with verify."
VERIFIER_THRESHOLD = "The verifier's threshold, which `duplicate` is decided at; present with verify."
DECISION = "The decision: verification > the verifier's threshold with verify, else similarity > τ."


class SimilarityRequest(_Strict):
    pairs: list[PairIn] = Field(min_length=1, max_length=MAX_PAIRS)
    verify: bool = _verify_flag("each pair")


class PairScore(BaseModel):
    similarity: float = Field(description="Cosine similarity of the two questions' vectors.")
    duplicate: bool = Field(description=DECISION)
    cosine_duplicate: bool | None = Field(default=None, description=COSINE_DUPLICATE)
    verification: float | None = Field(default=None, description=VERIFICATION)


class SimilarityResponse(BaseModel):
    threshold: float = Field(description="τ, the Siamese model's threshold.")
    verifier_threshold: float | None = Field(default=None, description=VERIFIER_THRESHOLD)
    results: list[PairScore]


class DuplicatesRequest(_Strict):
    question: Text  # type: ignore[valid-type]
    k: int = Field(default=5, ge=1, le=MAX_K, strict=True)
    verify: bool = _verify_flag("the k candidates the index found")


class MatchOut(BaseModel):
    id: str
    text: str
    similarity: float = Field(description="Cosine similarity to the question.")
    duplicate: bool = Field(description=DECISION)
    cosine_duplicate: bool | None = Field(default=None, description=COSINE_DUPLICATE)
    verification: float | None = Field(default=None, description=VERIFICATION)


class DuplicatesResponse(BaseModel):
    question: str
    threshold: float = Field(description="τ, the Siamese model's threshold.")
    verifier_threshold: float | None = Field(default=None, description=VERIFIER_THRESHOLD)
    matches: list[MatchOut] = Field(
        description="Most similar first; with verify, highest verification first."
    )


class NewQuestion(_Strict):
    id: QuestionId | None = None  # type: ignore[valid-type]
    text: Text  # type: ignore[valid-type]


class IndexRequest(_Strict):
    questions: list[NewQuestion] = Field(min_length=1, max_length=MAX_NEW_QUESTIONS)


class IndexResponse(BaseModel):
    added: int
    ids: list[str]
    questions: int


class ErrorReply(BaseModel):
    """Every refusal other than a 422: a short reason."""

    detail: str

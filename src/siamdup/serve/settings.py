"""The service's limits, its journal-folding policy and its threads, validated once for the CLI and
`create_app`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServiceSettings(BaseModel):
    """How much one request may send and have verified, how often added questions are folded into the saved
    index, and how many threads queries and the HNSW build use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest request body accepted; a larger one is refused with 413 before it is read.",
    )
    max_verified_pairs: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description='Most pairs the verifier reads for one request with "verify": true (the pairs of '
        "/similarity, k of /duplicates); a request asking more is refused with 422.",
    )
    fold_every_adds: int = Field(
        default=10_000,
        ge=1,
        description="Save the index (emptying its journal) after this many questions were journalled.",
    )
    fold_every_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Also save it this long after the first question journalled since the last save.",
    )
    query_batch: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="Most /duplicates queries, waiting together, answered with one encoder pass and one search.",
    )
    query_threads: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Threads one encoder pass or search may use; 1 lets concurrent requests share the cores "
        "without contending.",
    )
    build_threads: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Threads the background HNSW build uses (a process of its own, at a lower priority than queries).",
    )

"""Find the duplicates of a new question among stored ones, and groups of duplicates in a corpus."""

from siamdup.index.dedupe import DedupeResult, dedupe
from siamdup.index.duplicate_index import (
    DuplicateIndex,
    HNSWSettings,
    IndexLoadError,
    IndexUpdateError,
    Match,
)

__all__ = [
    "DedupeResult",
    "DuplicateIndex",
    "HNSWSettings",
    "IndexLoadError",
    "IndexUpdateError",
    "Match",
    "dedupe",
]

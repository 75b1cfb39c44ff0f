from pathlib import Path

import numpy as np
import pytest
from helpers import FORUM_QUESTIONS
from verifier_samples import one_thread

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.index.duplicate_index import VerifiedMatch
from siamdup.verify import Verifier

QUESTIONS = ["How do I learn Python?", "How can I cook rice well?"]


@pytest.fixture(scope="module")
def forum(shipped_model: Siamese) -> DuplicateIndex:
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    return index


def test_verified_query_is_the_verifier_on_the_index_candidates(
    forum: DuplicateIndex, random_verifier_dir: Path
) -> None:
    verifier = Verifier.load(random_verifier_dir)
    with one_thread():
        verified = forum.query_many(QUESTIONS, k=4, verify=True, verifier=verifier)
        for question, plain, checked in zip(
            QUESTIONS, forum.query_many(QUESTIONS, k=4), verified, strict=True
        ):
            assert {m.id for m in checked} == {m.id for m in plain}  # the same k candidates, re-scored
            direct = verifier.score([question] * len(plain), [m.text for m in plain])
            by_id = {m.id: (p, m.similarity) for m, p in zip(plain, direct, strict=True)}
            for m in checked:
                assert isinstance(m, VerifiedMatch)
                assert m.verification == pytest.approx(by_id[m.id][0], abs=1e-9)
                assert m.similarity == by_id[m.id][1]
                assert m.duplicate == (m.verification > verifier.threshold)
            scores = [m.verification for m in checked]
            assert scores == sorted(scores, reverse=True)


def test_query_without_a_verifier_says_so(forum: DuplicateIndex, random_verifier_dir: Path) -> None:
    with pytest.raises(ValueError, match="needs a verifier"):
        forum.query("How do I learn Python?", verify=True)
    forum.verifier = Verifier.load(random_verifier_dir)
    try:
        with one_thread():
            matches = forum.query("How do I learn Python?", k=2, verify=True)
    finally:
        forum.verifier = None
    assert len(matches) == 2 and all(np.isfinite(m.verification) for m in matches)  # type: ignore[attr-defined]

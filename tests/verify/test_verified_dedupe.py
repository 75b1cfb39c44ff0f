import csv
from pathlib import Path

import numpy as np
from typer.testing import CliRunner
from verifier_samples import one_thread

from siamdup import Siamese
from siamdup.cli import app
from siamdup.index import dedupe
from siamdup.verify import Verifier

TEXTS = [
    "How do I learn Python?",
    "What is the best way to learn Python?",
    "How can I learn Python fast?",
    "How do I cook rice?",
    "What is the best way to cook rice?",
    "How old are you?",
    "What is your age?",
    "Where are you from?",
    "Where are you going?",
]


def links(result) -> set[frozenset[int]]:
    return {frozenset((g[0], m)) for g in result.groups for m in g[1:]}


def test_dedupe_verify_keeps_only_the_links_the_verifier_confirms(random_verifier_dir: Path) -> None:
    model, verifier = Siamese.load(), Verifier.load(random_verifier_dir)
    plain = dedupe(model, TEXTS, threshold=0.5, k=4)
    candidates = sorted(links(plain), key=sorted)
    with one_thread():
        scores = verifier.score([TEXTS[min(c)] for c in candidates], [TEXTS[max(c)] for c in candidates])
        verifier.threshold = float(np.median(scores))  # so that some links go and some stay
        verified = dedupe(model, TEXTS, threshold=0.5, k=4, verifier=verifier)
    confirmed = {c for c, p in zip(candidates, scores, strict=True) if p > verifier.threshold}
    assert links(verified) <= confirmed and links(verified) < links(plain)
    grouped = {i for g in verified.groups for i in g}
    for pair in confirmed - links(verified):  # a confirmed link may only be missing inside other groups
        assert pair <= grouped


def test_dedupe_command_verify(random_verifier_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(TEXTS) + "\n")
    out = tmp_path / "groups.csv"
    args = ["dedupe", "--input", questions, "--out", out, "--threshold", "0.5", "--verify"]
    with one_thread():
        result = CliRunner().invoke(app, [str(a) for a in [*args, "--verifier", random_verifier_dir]])
        expected = dedupe(Siamese.load(), TEXTS, threshold=0.5, verifier=Verifier.load(random_verifier_dir))
    assert result.exit_code == 0, result.output
    groups: dict[str, set[str]] = {}
    for row in csv.DictReader(out.open()):
        groups.setdefault(row["group"], set()).add(row["text"])
    assert sorted(map(sorted, groups.values())) == sorted(
        sorted(TEXTS[i] for i in g) for g in expected.groups
    )

"""The robustness benchmark's core, end to end on the tiny model: every check's figures against a direct
computation, and the trained model ahead of an untrained one where training should show."""

import csv
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from benchmarks.quality.robustness import print_tables, run_checks, write_csv
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.robustness import build_contrast_set, build_proxy_pairs

SENTENCES = [
    "Remove the files and directories from the cache.",
    "Show the version of the compiler and exit.",
    "Print a summary of the packets read from a socket.",
    "Create a new archive from the given files.",
    "Display the contents of the configuration file.",
    "Start the daemon in the background at boot.",
    "Write the log to standard error instead of a file.",
    "Delete the temporary directory after the build.",
    "Convert images between many graphics formats quickly.",
    "List the users and groups of the system.",
]


def cosines(model: Siamese, a: list[str], b: list[str]) -> np.ndarray:
    """Cosine of each pair from the unit vectors of one encoding of all the texts."""
    vectors = model.encode(a + b)
    return np.einsum("ij,ij->i", vectors[: len(a)], vectors[len(a) :])


def test_run_checks_side_by_side(
    tiny_model_dir: Path, untrained_twin_dir: Path, synthetic_files: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    dev, _ = read_pairs(synthetic_files[1])
    models = {"tiny": Siamese.load(tiny_model_dir), "untrained": Siamese.load(untrained_twin_dir)}
    tables = run_checks(models, dev, SENTENCES, seed=2, per_kind=50, anchors=5)

    retrieval = {r["model"]: r for r in tables["retrieval"]}
    assert retrieval["tiny"]["mrr@10"] > retrieval["untrained"]["mrr@10"] + 0.2
    assert retrieval["tiny"]["recall@10"] >= retrieval["tiny"]["recall@1"] > 0.3

    contrast = build_contrast_set([q for p in dev for q in (p.question1, p.question2)], seed=2, per_kind=50)
    assert {r["kind"] for r in tables["contrast"]} == {p.kind for p in contrast} >= {"wh-word", "negation"}
    proxy = build_proxy_pairs(SENTENCES, anchors=5, seed=2)
    for name, model in models.items():
        for row in (r for r in tables["contrast"] if r["model"] == name):
            of_kind = [p for p in contrast if p.kind == row["kind"]]
            scores = cosines(model, [p.original for p in of_kind], [p.changed for p in of_kind])
            assert row["pairs"] == len(of_kind)
            assert np.isclose(row["mean_similarity"], np.mean(scores), atol=1e-5)
            assert np.isclose(row["accuracy"], np.mean([s <= model.threshold for s in scores]))
        ood = next(r for r in tables["ood"] if r["model"] == name)
        scores = cosines(model, [p.anchor for p in proxy], [p.other for p in proxy])
        labels = np.array([p.label for p in proxy])
        assert np.isclose(ood["roc_auc"], roc_auc_score(labels, scores), atol=1e-4)
        edited = labels == 1
        assert np.isclose(ood["accuracy_edited"], np.mean(scores[edited] > model.threshold))

    print_tables(tables, list(models))
    printed = capsys.readouterr().out
    assert "| wh-word | 0 |" in printed and "| tiny |" in printed and "| untrained |" in printed
    write_csv(tables, tmp_path)
    with (tmp_path / "robustness_contrast.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(tables["contrast"]) and {r["model"] for r in rows} == {"tiny", "untrained"}

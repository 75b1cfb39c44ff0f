"""The Python API: enrol without retraining, verify against the stored references, reopen, change model."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from signature_samples import signature, write_svc2004

from siamdup.signatures.model import SignatureModel, SignatureModelLoadError, default_signature_model_path
from siamdup.signatures.verifier import (
    InvalidWriterError,
    SignatureVerifier,
    StoreLoadError,
    TrajectoryFormatError,
    UnknownWriterError,
    model_identity,
    read_signatures,
)

SVC2004 = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "signatures" / "svc2004"


@pytest.fixture(scope="module")
def model() -> SignatureModel:
    return SignatureModel.untrained(seed=0, d_model=16, length=32)


def test_enrol_then_verify_scores_against_each_reference(model: SignatureModel, tmp_path: Path) -> None:
    weights = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    verifier = SignatureVerifier.open(tmp_path / "store", model)
    references = [signature(1, i) for i in range(4)]
    assert verifier.enrol("alice", references) == 4
    assert verifier.enrol("alice", [signature(1, 4)]) == 5  # a known writer gains references
    assert verifier.enrol("bob", [signature(2, i) for i in range(3)]) == 3
    assert all(torch.equal(v, weights[k]) for k, v in model.encoder.state_dict().items())  # no retraining

    query = signature(1, 9)
    result = verifier.verify("alice", query)
    expected = model.embed([*references, signature(1, 4)]) @ model.embed([query])[0]  # one by one
    np.testing.assert_allclose(result.reference_scores, expected, atol=1e-5)
    assert result.score == pytest.approx(max(expected), abs=1e-5)  # the untrained model aggregates by max
    assert result.genuine == (result.score > model.threshold) and result.threshold == model.threshold
    assert verifier.writers() == ["alice", "bob"]


def test_a_genuine_signature_passes_and_another_writers_fails(model: SignatureModel, tmp_path: Path) -> None:
    verifier = SignatureVerifier.open(tmp_path / "store", model)
    for writer in (1, 2, 3):
        verifier.enrol(f"w{writer}", [signature(writer, i) for i in range(5)])
    genuine = [verifier.verify(f"w{w}", signature(w, 20)).score for w in (1, 2, 3)]
    impostor = [verifier.verify(f"w{w}", signature(w % 3 + 1, 20)).score for w in (1, 2, 3)]
    assert min(genuine) > max(impostor)
    model.threshold = (min(genuine) + max(impostor)) / 2
    try:
        assert all(verifier.verify(f"w{w}", signature(w, 21)).genuine for w in (1, 2, 3))
        assert not any(verifier.verify(f"w{w}", signature(w % 3 + 1, 21)).genuine for w in (1, 2, 3))
    finally:
        model.threshold = 0.5


def test_files_are_read_and_a_bad_one_enrols_nothing(model: SignatureModel, tmp_path: Path) -> None:
    good = [write_svc2004(signature(1, i), tmp_path / f"U1S{i}.TXT") for i in range(1, 4)]
    bad = tmp_path / "broken.TXT"
    bad.write_text("3\r\n1 2 3 1 0 0 0\r\n")
    verifier = SignatureVerifier.open(tmp_path / "store", model)
    with pytest.raises(
        TrajectoryFormatError, match=r"broken\.TXT, line 1: the header says 3 points but 1 follow"
    ):
        verifier.enrol("alice", [*good, bad])
    assert verifier.writers() == [] and not (tmp_path / "store" / "manifest.json").exists()
    batch = read_signatures([*good, bad, tmp_path / "missing.TXT"])
    assert len(batch.trajectories) == 3 and [Path(p).name for p, _ in batch.skipped] == [
        "broken.TXT",
        "missing.TXT",
    ]
    assert verifier.enrol("alice", good) == 3
    result = verifier.verify("alice", good[0])
    assert max(result.reference_scores) == pytest.approx(1.0, abs=1e-5)  # the same file as a reference


def test_clear_errors_for_unknown_and_invalid_writers(model: SignatureModel, tmp_path: Path) -> None:
    verifier = SignatureVerifier.open(tmp_path / "store", model)
    with pytest.raises(UnknownWriterError, match="no signatures are enrolled for writer 'carol'"):
        verifier.verify("carol", signature(1, 0))
    with pytest.raises(InvalidWriterError, match=r"'\.\./carol' is not valid"):
        verifier.enrol("../carol", [signature(1, 0)])
    with pytest.raises(ValueError, match="no signatures to enrol"):
        verifier.enrol("carol", [])
    with pytest.raises(TypeError, match="wrap a single one in a list"):
        verifier.enrol("carol", signature(1, 0))


def test_reopening_uses_the_recorded_model(model: SignatureModel, tmp_path: Path) -> None:
    model.save(tmp_path / "model")
    saved = SignatureModel.load(tmp_path / "model")
    first = SignatureVerifier.open(tmp_path / "store", saved)
    first.enrol("alice", [signature(1, i) for i in range(3)])
    expected = first.verify("alice", signature(1, 5))
    again = SignatureVerifier.open(tmp_path / "store")  # no model given: the one the store records
    assert again.model.path == tmp_path / "model" and again.reembedded == 0
    assert again.verify("alice", signature(1, 5)) == expected


def test_another_model_derives_the_vectors_again(model: SignatureModel, tmp_path: Path) -> None:
    SignatureVerifier.open(tmp_path / "store", model).enrol("alice", [signature(1, i) for i in range(3)])
    other = SignatureModel.untrained(seed=1, d_model=8, length=32)
    verifier = SignatureVerifier.open(tmp_path / "store", other)
    assert verifier.reembedded == 3
    query = signature(1, 5)
    expected = other.embed([signature(1, i) for i in range(3)]) @ other.embed([query])[0]
    np.testing.assert_allclose(verifier.verify("alice", query).reference_scores, expected, atol=1e-5)
    verifier.enrol("bob", [signature(2, 0)])  # the save records the new model for every writer
    reopened = SignatureVerifier.open(tmp_path / "store", other)
    assert reopened.reembedded == 0 and reopened.store.model == model_identity(other)


def test_a_folder_holding_other_files_is_refused(model: SignatureModel, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreLoadError, match="holds other files but no signature store"):
        SignatureVerifier.open(tmp_path, model)


def test_no_model_anywhere_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import siamdup.signatures.verifier as verifier_module

    monkeypatch.setattr(verifier_module, "default_signature_model_path", lambda: tmp_path / "none")
    with pytest.raises(SignatureModelLoadError, match="no signature model ships with this siamdup"):
        SignatureVerifier.open(tmp_path / "store")


def test_a_new_store_takes_the_shipped_model(tmp_path: Path) -> None:
    if not default_signature_model_path().is_dir():
        pytest.skip("no signature model ships with siamdup")
    verifier = SignatureVerifier.open(tmp_path / "store")
    assert verifier.model.path == default_signature_model_path()
    verifier.enrol("alice", [signature(1, 0), signature(1, 1)])
    assert verifier.store.model.path is None  # recorded as "the shipped one", wherever siamdup is installed
    assert SignatureVerifier.open(tmp_path / "store").identity == verifier.identity


def test_a_trained_model_tells_genuine_from_skilled_forgeries(tmp_path: Path) -> None:
    """On real SVC2004 writers the model never trained on: 5 genuine references, then 10 genuine signatures
    and 10 skilled forgeries checked per writer. The model: $SIAMDUP_SIGNATURE_MODEL, else the shipped one."""
    chosen = os.environ.get("SIAMDUP_SIGNATURE_MODEL")
    if chosen is None and not default_signature_model_path().is_dir():
        pytest.skip("no trained signature model: none ships, and $SIAMDUP_SIGNATURE_MODEL is not set")
    model = SignatureModel.load(chosen)
    writers = sorted(model.metadata.get("dev_writers", [1, 2, 3]))[:3]
    archive = Path(os.environ.get("SIAMDUP_SVC2004", SVC2004))
    try:
        from siamdup.trajectory.svc2004 import load_svc2004

        records = load_svc2004(archive, writers=set(writers))
    except FileNotFoundError:
        pytest.skip(f"SVC2004 data not found at {archive}")
    verifier = SignatureVerifier.open(tmp_path / "store", model)
    right = total = 0
    for writer in writers:
        mine = {r.session: r.trajectory for r in records if r.writer == writer}
        verifier.enrol(f"u{writer}", [mine[s] for s in range(1, 6)])
        for session in range(11, 31):
            right += verifier.verify(f"u{writer}", mine[session]).genuine == (session <= 20)
            total += 1
    assert right / total >= 0.8


def test_a_recorded_model_that_is_gone_is_named(model: SignatureModel, tmp_path: Path) -> None:
    saved = SignatureModel.load(model.save(tmp_path / "model"))
    SignatureVerifier.open(tmp_path / "store", saved).enrol("alice", [signature(1, 0)])
    shutil.rmtree(tmp_path / "model")
    with pytest.raises(
        SignatureModelLoadError, match=r"was enrolled with the model at .*model, which cannot be"
    ):
        SignatureVerifier.open(tmp_path / "store")
    assert SignatureVerifier.open(tmp_path / "store", model).writers() == ["alice"]

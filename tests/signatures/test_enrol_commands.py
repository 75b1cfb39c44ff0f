"""`siamdup signatures enrol|verify|writers` as a user runs them."""

import json
from pathlib import Path

import pytest
from signature_samples import signature, write_svc2004
from typer.testing import CliRunner

from siamdup.cli import app
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.verifier import SignatureVerifier

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return SignatureModel.untrained(seed=0, d_model=16, length=32).save(tmp_path_factory.mktemp("sigmodel"))


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [write_svc2004(signature(1, i), tmp_path / f"U1S{i}.TXT") for i in range(1, 7)]


def test_enrol_then_verify_as_written(model_dir: Path, files: list[Path], tmp_path: Path) -> None:
    store = tmp_path / "signatures"
    enrolled = run(
        "signatures", "enrol", "--store", store, "--writer", "u1", "--model", model_dir, *files[:5]
    )
    assert enrolled.exit_code == 0, enrolled.output
    assert "enrolled 5 signature(s) for u1: 5 reference(s) now" in enrolled.output

    verified = run("signatures", "verify", "--store", store, "--writer", "u1", "--json", files[5])
    assert verified.exit_code == 0, verified.output  # the model is the one the store records
    result = json.loads(verified.stdout)
    expected = SignatureVerifier.open(store, SignatureModel.load(model_dir)).verify("u1", files[5])
    assert result["score"] == pytest.approx(expected.score, abs=1e-6)
    assert result["genuine"] == expected.genuine and result["threshold"] == expected.threshold
    assert len(result["reference_scores"]) == 5 and result["file"] == str(files[5])

    shown = run("signatures", "verify", "--store", store, "--writer", "u1", files[5])
    decision = "genuine" if expected.genuine else "forgery"
    assert f"score {expected.score:.4f} against 5 reference(s) of u1 (max) → {decision}" in shown.stdout
    assert "U1S3.TXT" in shown.stdout  # each reference's similarity, by file

    listed = json.loads(run("signatures", "writers", "--store", store).stdout)
    assert listed["by_writer"] == {"u1": 5} and listed["writers"] == 1


def test_bad_files_are_skipped_and_counted(model_dir: Path, files: list[Path], tmp_path: Path) -> None:
    store = tmp_path / "signatures"
    bad = tmp_path / "bad.json"
    bad.write_text('{"points": [{"x": 1}]}')
    enrolled = run(
        "signatures", "enrol", "-s", store, "-w", "u1", "-m", model_dir, files[0], bad, tmp_path / "no.TXT"
    )
    assert enrolled.exit_code == 0, enrolled.output
    assert "skipped " in enrolled.stderr and "bad.json: point 0 needs x, y and t" in enrolled.stderr
    assert "no.TXT: cannot read" in enrolled.stderr
    assert "enrolled 1 signature(s) for u1: 1 reference(s) now (2 bad file(s) skipped)" in enrolled.stdout

    nothing = run("signatures", "enrol", "-s", store, "-w", "u2", bad)
    assert (
        nothing.exit_code == 2
        and "none of the 1 file(s) could be read; nothing was enrolled" in nothing.stderr
    )
    assert json.loads(run("signatures", "writers", "-s", store).stdout)["by_writer"] == {"u1": 1}


def test_clear_errors(model_dir: Path, files: list[Path], tmp_path: Path) -> None:
    store = tmp_path / "signatures"
    missing = run("signatures", "verify", "-s", store, "-w", "u1", files[0])
    assert missing.exit_code == 2 and "no signature store there" in missing.stderr
    assert not store.exists()

    bad_id = run("signatures", "enrol", "-s", store, "-w", "../u1", "-m", model_dir, files[0])
    assert bad_id.exit_code == 2 and "--writer: writer id '../u1' is not valid" in bad_id.stderr
    assert not store.exists()  # the folder made for the lock is removed again

    run("signatures", "enrol", "-s", store, "-w", "u1", "-m", model_dir, files[0])
    unknown = run("signatures", "verify", "-s", store, "-w", "u9", files[1])
    assert unknown.exit_code == 2
    assert "no signatures are enrolled for writer 'u9'; enrol some first (enrolled: u1)" in unknown.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("x,y\n1,2\n")
    bad_file = run("signatures", "verify", "-s", store, "-w", "u1", broken)
    assert bad_file.exit_code == 2 and "broken.csv, line 1: the header lacks column(s) t" in bad_file.stderr

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = run("signatures", "enrol", "-s", other, "-w", "u1", "-m", model_dir, files[0])
    assert refused.exit_code == 2 and "holds other files but no signature store" in refused.stderr


def test_a_store_another_process_writes_is_refused(
    model_dir: Path, files: list[Path], tmp_path: Path
) -> None:
    """A store held by another writer (e.g. a running service) is refused, naming the holder."""
    import subprocess
    import sys

    store = tmp_path / "signatures"
    run("signatures", "enrol", "-s", store, "-w", "u1", "-m", model_dir, files[0])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; from siamdup.storage import writer_lock\nwith writer_lock({str(store)!r}):\n print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = run("signatures", "enrol", "-s", store, "-w", "u1", files[1])
        assert refused.exit_code == 2 and f"is being written by pid {holder.pid}" in refused.stderr
        assert (
            run("signatures", "verify", "-s", store, "-w", "u1", files[1]).exit_code == 0
        )  # reading is fine
    finally:
        holder.communicate("", timeout=30)
    assert json.loads(run("signatures", "writers", "-s", store).stdout)["by_writer"] == {"u1": 1}

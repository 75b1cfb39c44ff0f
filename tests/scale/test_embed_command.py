"""`siamdup embed` from the command line: shards written, a rerun resumes, clear errors."""

import sys
from pathlib import Path

import numpy as np
from helpers import FORUM_QUESTIONS
from typer.testing import CliRunner

from siamdup import Siamese
from siamdup.cli import app
from siamdup.scale import EmbeddingStore

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_embed_writes_shards_and_a_rerun_keeps_them(tmp_path: Path, shipped_model: Siamese) -> None:
    questions = tmp_path / "q.csv"
    questions.write_text("qid,text\n" + "".join(f"{k},{v}\n" for k, v in FORUM_QUESTIONS.items()))
    first = run(
        "embed", "--input", questions, "--id-column", "qid", "--out", tmp_path / "emb", "--shard-size", 3
    )
    assert first.exit_code == 0, first.output
    shards = -(-len(FORUM_QUESTIONS) // 3)
    assert f"in {shards} shards: 0 kept from an earlier run" in first.output
    again = run(
        "embed", "--input", questions, "--id-column", "qid", "--out", tmp_path / "emb", "--shard-size", 3
    )
    assert again.exit_code == 0 and f"{shards} kept from an earlier run" in again.output
    store = EmbeddingStore.open(tmp_path / "emb")
    assert store.entries() == (list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    vectors = np.concatenate([v for _, v in store.chunks()])
    np.testing.assert_allclose(vectors, shipped_model.encode(list(FORUM_QUESTIONS.values())), atol=1e-6)


def test_embed_errors_are_clear(tmp_path: Path, monkeypatch) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("How old are you?\n")
    missing = run("embed", "--input", tmp_path / "nope.csv", "--out", tmp_path / "emb")
    assert missing.exit_code == 2 and "nope.csv" in missing.output and "Traceback" not in missing.output
    engine = run("embed", "--input", questions, "--out", tmp_path / "emb", "--engine", "spark")
    assert engine.exit_code == 2 and "--engine must be one of local, ray" in engine.output
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    no_ray = run("embed", "--input", questions, "--out", tmp_path / "emb2", "--engine", "ray")
    assert no_ray.exit_code == 2 and 'pip install "siamdup[ray]"' in no_ray.output
    assert not (tmp_path / "emb2" / "manifest.json").exists()

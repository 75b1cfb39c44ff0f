"""`siamdup embed`: shards on disk, their manifest and checksums, and resuming after a killed run."""

import json
from pathlib import Path

import numpy as np
import pytest

from siamdup import Siamese
from siamdup.scale import EmbeddingsError, EmbeddingStore, embed_corpus, read_corpus
from siamdup.scale.embed import local_encoder
from siamdup.storage import STAGING

QUESTIONS = [
    f"How do I learn {topic} in {n} weeks?" for topic in ("python", "chess", "yoga") for n in range(1, 16)
]


def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.csv"
    path.write_text("qid,text\n" + "".join(f"q{i},{q}\n" for i, q in enumerate(QUESTIONS)))
    return path


def test_round_trip_keeps_every_vector_id_and_text(tmp_path: Path, shipped_model: Siamese) -> None:
    corpus = read_corpus([questions_file(tmp_path)], id_column="qid")
    report = embed_corpus(shipped_model, corpus, tmp_path / "emb", shard_size=8)
    assert (report.shards, report.encoded, report.kept) == (6, 6, 0)
    store = EmbeddingStore.open(tmp_path / "emb")
    assert len(store) == len(QUESTIONS) and store.dim == shipped_model.dim
    ids, texts = store.entries()
    assert ids == [f"q{i}" for i in range(len(QUESTIONS))] and texts == QUESTIONS
    vectors = np.concatenate([v for _, v in store.chunks()])
    np.testing.assert_allclose(vectors, shipped_model.encode(QUESTIONS), atol=1e-6)
    rows = np.array([44, 3, 3, 17, 0])
    np.testing.assert_array_equal(store.gather(rows), vectors[rows])


def test_a_killed_run_keeps_its_finished_shards_and_the_rerun_does_the_rest(
    tmp_path: Path, shipped_model: Siamese
) -> None:
    corpus = read_corpus([questions_file(tmp_path)], id_column="qid")
    out = tmp_path / "emb"

    def killed_after_two(jobs):
        for count, finished in enumerate(local_encoder(shipped_model)(jobs)):
            if count == 2:
                (out / STAGING).mkdir()  # a save cut short: half a shard in the staging folder
                (out / STAGING / "shard-00002.npy").write_bytes(b"half")
                raise KeyboardInterrupt
            yield finished

    with pytest.raises(KeyboardInterrupt):
        embed_corpus(shipped_model, corpus, out, shard_size=8, encoder=killed_after_two)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["number"] for s in manifest["shards"]] == [0, 1]
    with pytest.raises(EmbeddingsError, match="2 of 6 shards"):
        EmbeddingStore.open(out)

    encoded: list[int] = []

    def counting(jobs):
        encoded.extend(number for number, _ in jobs)
        yield from local_encoder(shipped_model)(jobs)

    report = embed_corpus(shipped_model, corpus, out, shard_size=8, encoder=counting)
    assert encoded == [2, 3, 4, 5] and (report.kept, report.encoded) == (2, 4)
    assert not (out / STAGING).exists()
    vectors = np.concatenate([v for _, v in EmbeddingStore.open(out).chunks()])
    np.testing.assert_allclose(vectors, shipped_model.encode(QUESTIONS), atol=1e-6)


def test_a_corrupt_shard_is_refused_then_redone(tmp_path: Path, shipped_model: Siamese) -> None:
    corpus = read_corpus([questions_file(tmp_path)], id_column="qid")
    out = tmp_path / "emb"
    embed_corpus(shipped_model, corpus, out, shard_size=20)
    damaged = out / "shard-00001.npy"
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(EmbeddingsError, match="shard 1"):
        EmbeddingStore.open(out)
    report = embed_corpus(shipped_model, corpus, out, shard_size=20)
    assert (report.kept, report.redone, report.encoded) == (2, 1, 1)
    EmbeddingStore.open(out)


def test_other_inputs_or_settings_are_refused_unless_overwritten(
    tmp_path: Path, shipped_model: Siamese
) -> None:
    path = questions_file(tmp_path)
    out = tmp_path / "emb"
    embed_corpus(shipped_model, read_corpus([path], id_column="qid"), out, shard_size=20)
    with pytest.raises(EmbeddingsError, match="shard size"):
        embed_corpus(shipped_model, read_corpus([path], id_column="qid"), out, shard_size=10)
    path.write_text("qid,text\nz,Is this another file?\n")
    changed = read_corpus([path], id_column="qid")
    with pytest.raises(EmbeddingsError, match="input files"):
        embed_corpus(shipped_model, changed, out, shard_size=20)
    embed_corpus(shipped_model, changed, out, shard_size=20, overwrite=True)
    store = EmbeddingStore.open(out)
    assert store.entries() == (["z"], ["Is this another file?"])
    assert sorted(p.name for p in out.glob("shard-*")) == ["shard-00000.jsonl", "shard-00000.npy"]


def test_several_files_without_ids_get_file_and_row_ids(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("How old are you?\nWhat is your age?\n")
    (tmp_path / "b.txt").write_text("How do I cook rice?\n")
    corpus = read_corpus([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert corpus.ids == ["a.txt:1", "a.txt:2", "b.txt:1"]

"""The enrolment store: round trips, partial rewrites, writer ids, and damaged files named on load."""

import json
from pathlib import Path

import numpy as np
import pytest
from signature_samples import signature

from siamdup.signatures.references import (
    MAX_REFERENCES,
    InvalidWriterError,
    ModelIdentity,
    ReferenceStore,
    StoreLoadError,
    UnknownWriterError,
)
from siamdup.signatures.stored import writer_file
from siamdup.storage import CHECKSUMS

IDENTITY = ModelIdentity("0123456789abcdef", None, 8)


def unit_rows(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, IDENTITY.dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def filled_store(path: Path) -> ReferenceStore:
    store = ReferenceStore(IDENTITY)
    store.add("alice", [signature(1, i) for i in range(3)], unit_rows(3, 1))
    store.add("bob.smith@bank", [signature(2, 0)], unit_rows(1, 2))
    store.save(path)
    return store


def test_round_trip_keeps_every_point_column_source_and_vector(tmp_path: Path) -> None:
    saved = filled_store(tmp_path / "store")
    loaded = ReferenceStore.load(tmp_path / "store")
    assert loaded.writers() == ["alice", "bob.smith@bank"] and loaded.model == IDENTITY
    for writer in saved.writers():
        for a, b in zip(saved.references(writer), loaded.references(writer), strict=True):
            assert a.columns == b.columns and a.source == b.source
            np.testing.assert_array_equal(a.points, b.points)
        np.testing.assert_array_equal(saved.vectors(writer), loaded.vectors(writer))
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["writers"]["alice"]["references"][1] == {
        "source": "w1s1",
        "columns": ["x", "y", "t", "pen_down", "pressure"],
        "points": 120,
    }


def test_adding_references_rewrites_only_that_writers_file(tmp_path: Path) -> None:
    store = filled_store(tmp_path / "store")
    bob = tmp_path / "store" / writer_file("bob.smith@bank")
    before = (bob.stat().st_ino, bob.stat().st_mtime_ns)
    assert store.add("alice", [signature(1, 7)], unit_rows(1, 3)) == 4
    store.save()
    assert (bob.stat().st_ino, bob.stat().st_mtime_ns) == before
    loaded = ReferenceStore.load(tmp_path / "store")  # bob's file is still checked against its checksum
    assert len(loaded.references("alice")) == 4 and len(loaded.references("bob.smith@bank")) == 1
    assert loaded.references("alice")[3].source == "w1s7"
    np.testing.assert_array_equal(loaded.vectors("alice")[3], unit_rows(1, 3)[0])


def test_forgetting_a_writer_removes_its_file(tmp_path: Path) -> None:
    store = filled_store(tmp_path / "store")
    store.truncate("bob.smith@bank", 0)
    store.save()
    assert not (tmp_path / "store" / writer_file("bob.smith@bank")).exists()
    assert ReferenceStore.load(tmp_path / "store").writers() == ["alice"]


@pytest.mark.parametrize(
    "writer", ["", "../etc", "a/b", "a\\b", ".hidden", "-x", "x" * 65, "bob\n", "é", "a b"]
)
def test_writer_ids_that_could_be_paths_are_refused(writer: str) -> None:
    with pytest.raises(InvalidWriterError, match="is not valid: 1 to 64 characters"):
        ReferenceStore(IDENTITY).add(writer, [signature(1, 0)], unit_rows(1, 0))


def test_unknown_writer_empty_enrolment_and_the_limit(tmp_path: Path) -> None:
    store = filled_store(tmp_path / "store")
    with pytest.raises(UnknownWriterError) as unknown:
        store.vectors("carol")
    assert str(unknown.value) == "no signatures are enrolled for writer 'carol'; enrol some first"
    with pytest.raises(ValueError, match="no signatures to enrol for writer 'carol'"):
        store.add("carol", [], unit_rows(0, 0))
    with pytest.raises(ValueError, match=f"would pass the limit of {MAX_REFERENCES}"):
        store.add("alice", [signature(1, 0)] * (MAX_REFERENCES - 2), unit_rows(MAX_REFERENCES - 2, 0))
    assert len(store.references("alice")) == 3  # a refused enrolment changes nothing


def test_a_changed_writer_file_is_named_on_load(tmp_path: Path) -> None:
    filled_store(tmp_path / "store")
    path = tmp_path / "store" / writer_file("alice")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreLoadError, match=f"{path.name}: its SHA-256 is .* in {CHECKSUMS}"):
        ReferenceStore.load(tmp_path / "store")


def test_a_wrong_manifest_field_is_named_on_load(tmp_path: Path) -> None:
    filled_store(tmp_path / "store")
    manifest_path = tmp_path / "store" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["writers"]["alice"]["references"][0]["points"] = "many"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StoreLoadError, match=r"field writers\.alice\.references\.0\.points"):
        ReferenceStore.load(tmp_path / "store")
    manifest["writers"]["alice"]["references"][0]["points"] = 119  # disagrees with the tensor
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StoreLoadError, match=r"tensor points\.0 is float64 \(120, 5\), the manifest says"):
        ReferenceStore.load(tmp_path / "store")


def test_a_folder_without_a_manifest_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreLoadError, match="not a signature store"):
        ReferenceStore.load(tmp_path)


def test_stored_columns_are_the_trajectory_columns() -> None:
    from typing import get_args

    from siamdup.signatures.stored import Column
    from siamdup.trajectory.points import COLUMNS

    assert get_args(Column) == COLUMNS

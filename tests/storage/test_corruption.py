"""Every stored file is checked on load: corruption and bad settings are refused by file (and line or
field) name, never a traceback or a silent wrong answer; directories saved before checksums still load."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from siamdup import Siamese
from siamdup.cli import app
from siamdup.index import DuplicateIndex, IndexLoadError
from siamdup.model.siamese import ModelLoadError
from siamdup.storage import CHECKSUMS, COMPLETE, STAGING, StoredFiles
from tests.storage.conftest import QUESTIONS

TEXTS = ["how do i learn chess?", "is guitar hard?"]


def flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def make_old_format(directory: Path) -> None:
    """What a siamdup without checksums saved: no checksums.sha256, no generation, an empty journal."""
    (directory / CHECKSUMS).unlink()
    if (directory / "manifest.json").exists():
        edit_json(directory / "manifest.json", lambda m: m.pop("generation"))
        (directory / "journal.jsonl").write_text("")
    else:
        edit_json(directory / "config.json", lambda c: c.pop("siamdup_version"))


@pytest.fixture
def model_dir(small_model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(small_model_dir, tmp_path / "model"))


# -- models ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json"])
def test_a_flipped_byte_in_a_model_file_is_refused_by_name(model_dir: Path, name: str) -> None:
    flip_middle_byte(model_dir / name)
    with pytest.raises(ModelLoadError, match=rf"{name}: its SHA-256 is .* corrupt or was changed"):
        Siamese.load(model_dir)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.update(threshold=math.nan), "field threshold: Input should be a finite number"),
        (lambda c: c.update(threshold="0.5"), "field threshold: Input should be a valid number"),
        (lambda c: c.update(threshold=1.5), "field threshold: Input should be less than or equal to 1"),
        (
            lambda c: c["tokenizer"].update(max_length=0),
            "field tokenizer.max_length: Input should be greater",
        ),
        (lambda c: c["encoder"].update(d_model=-4), "encoder: field d_model: Input should be greater"),
        (lambda c: c["encoder"].update(heads=4), "encoder: field heads: Extra inputs are not permitted"),
        (lambda c: c.update(architecture="gru"), "unknown architecture 'gru'"),
        (lambda c: c.pop("encoder"), "field encoder: Field required"),
    ],
)
def test_config_settings_are_checked_by_field(model_dir: Path, change, field: str) -> None:
    edit_json(model_dir / "config.json", change)  # by hand: config.json is checked field by field instead
    with pytest.raises(ModelLoadError, match=rf"config\.json: .*{field}"):
        Siamese.load(model_dir)


def test_a_hand_tuned_threshold_is_accepted(model_dir: Path) -> None:
    edit_json(model_dir / "config.json", lambda c: c.update(threshold=0.25))
    assert Siamese.load(model_dir).threshold == 0.25


def test_a_corrupt_tokenizer_without_checksums_is_named(model_dir: Path) -> None:
    make_old_format(model_dir)
    (model_dir / "tokenizer.json").write_text('{"version": "1.0", "model": ')
    with pytest.raises(ModelLoadError, match=r"tokenizer\.json: not a valid tokenizer file"):
        Siamese.load(model_dir)


def test_a_model_saved_before_checksums_loads_the_same(model_dir: Path, small_model_dir: Path) -> None:
    make_old_format(model_dir)
    old, new = Siamese.load(model_dir), Siamese.load(small_model_dir)
    assert StoredFiles(model_dir).checksums is None
    assert np.array_equal(old.encode(TEXTS), new.encode(TEXTS)) and old.fingerprint() == new.fingerprint()
    assert json.loads((small_model_dir / "config.json").read_text())["siamdup_version"]


def test_the_shipped_model_is_verified_and_unchanged() -> None:
    files = StoredFiles(Siamese.load().path)
    assert files.checksums is not None and set(files.checksums) >= {"model.safetensors", "tokenizer.json"}
    model = Siamese.load()
    assert (
        model.fingerprint() == "b6e86ac2e3f43c6b"
    )  # the same vectors as before checksums: indexes stay valid
    score = model.similarity(["how do i learn python?"], ["what is the best way to learn python?"])[0]
    assert score == pytest.approx(0.98815346, abs=1e-6)


# -- indexes ---------------------------------------------------------------------------------------


def load(index_dir: Path, small_model_dir: Path) -> DuplicateIndex:
    return DuplicateIndex.load(index_dir, Siamese.load(small_model_dir))


def test_two_swapped_entries_lines_are_refused(small_index_dir: Path, small_model_dir: Path) -> None:
    entries = small_index_dir / "entries.jsonl"
    lines = entries.read_text().splitlines(keepends=True)
    lines[0], lines[1] = lines[1], lines[0]  # same size: only the checksum tells
    entries.write_text("".join(lines))
    with pytest.raises(IndexLoadError, match=r"entries\.jsonl: its SHA-256 .* Rebuild the index"):
        load(small_index_dir, small_model_dir)


def test_a_flipped_byte_in_the_vectors_is_refused(small_index_dir: Path, small_model_dir: Path) -> None:
    flip_middle_byte(small_index_dir / "vectors.faiss")
    with pytest.raises(IndexLoadError, match=r"vectors\.faiss: its SHA-256"):
        load(small_index_dir, small_model_dir)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ([], "field the top level: Input should be a valid dictionary"),
        ({"dim": "16"}, "field dim: Input should be a valid integer"),
        ({"hnsw": {"m": 0, "ef_construction": 1, "ef_search": 1}}, "field hnsw.m: Input should be greater"),
        (
            {"model": {"fingerprint": 5, "path": None}},
            "field model.fingerprint: Input should be a valid string",
        ),
        ({"kind": "fast"}, "field kind: Input should be 'auto', 'exact' or 'hnsw'"),
        ({"file_sizes": {"../x": 1}}, "field file_sizes.../x.\\[key\\]: String should match"),
    ],
)
def test_a_manifest_of_wrong_types_is_refused_by_field(
    small_index_dir: Path, small_model_dir: Path, manifest, message: str
) -> None:
    path = small_index_dir / "manifest.json"
    if isinstance(manifest, dict):
        manifest = {**json.loads(path.read_text()), **manifest}
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match=rf"manifest\.json: {message}"):
        load(small_index_dir, small_model_dir)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "chess", "text": ', "line 2 is not valid JSON"),
        ('{"id": 5, "text": "x"}', 'line 2 is {"id": 5, "text": "x"}, expected null or'),
        ('{"id": "chess", "text": "again?"}', "line 2 repeats the id 'chess' of line 1"),
    ],
)
def test_a_broken_entries_line_is_refused_by_line(
    small_index_dir: Path, small_model_dir: Path, line: str, message: str
) -> None:
    make_old_format(small_index_dir)  # without checksums, the line itself is checked
    entries = small_index_dir / "entries.jsonl"
    lines = entries.read_text().splitlines()
    lines[1] = line
    entries.write_text("\n".join(lines) + "\n")
    size = entries.stat().st_size
    edit_json(small_index_dir / "manifest.json", lambda m: m["file_sizes"].update({"entries.jsonl": size}))
    with pytest.raises(IndexLoadError, match=rf"entries\.jsonl: {message}"):
        load(small_index_dir, small_model_dir)


def test_bad_journal_lines_are_counted_and_described(small_index_dir: Path, small_model_dir: Path) -> None:
    journal = small_index_dir / "journal.jsonl"
    records = [
        {"op": "add", "id": "a", "text": "is rice hard?"},
        {"op": "add", "id": "a", "text": "again?"},  # repeated id: the first one stands
        {"op": "add", "id": "chess", "text": "stored already"},
        {"op": "remove", "id": "nobody"},
        {"op": "remove", "id": "sky"},
    ]
    with journal.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
        f.write('{"op": "add", "id": "c", "te')  # a write cut short
    index = load(small_index_dir, small_model_dir)
    assert index.replayed == 2 and index.journal_damaged == 4
    assert "a" in index and "sky" not in index
    assert index.query("is rice hard?", k=1)[0].text == "is rice hard?"
    notes = "\n".join(index.journal_notes)
    assert "line 3: add of id 'a', already stored" in notes and "line 7: cut short" in notes
    result = CliRunner().invoke(
        app, ["index", "info", "--index", str(small_index_dir), "--model", str(small_model_dir)]
    )
    assert result.exit_code == 0 and "4 damaged journal line(s) skipped" in result.output
    assert json.loads(result.stdout)["questions"] == len(QUESTIONS)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda line: line.replace("is rice hard?", "is rice hart?"), "checksum does not match"),
        (lambda line: line.replace('"is rice hard?"', "null"), "checksum does not match"),
        (lambda line: '{"op": "add", "id": "b", "text": null}\n', "its text is null"),
        (lambda line: line[:20] + "\n", "not valid JSON"),
    ],
)
def test_a_damaged_acknowledged_journal_line_is_refused_by_line(
    small_index_dir: Path, small_model_dir: Path, damage, problem: str
) -> None:
    index = load(small_index_dir, small_model_dir)
    index.add(["a"], ["is rice hard?"], journal=True)
    index.add(["b"], ["why is tea green?"], journal=True)
    journal = small_index_dir / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    lines[1] = damage(lines[1])  # the first change; a later one follows, so it was no torn last write
    journal.write_text("".join(lines))
    with pytest.raises(IndexLoadError, match=rf"journal\.jsonl.*line 2: .*{problem}"):
        load(small_index_dir, small_model_dir)


def test_a_journal_of_another_save_is_refused(small_index_dir: Path, small_model_dir: Path) -> None:
    journal = small_index_dir / "journal.jsonl"
    journal.write_text('{"op": "base", "generation": "0123"}\n{"op": "add", "id": "z", "text": "z?"}\n')
    with pytest.raises(IndexLoadError, match=r"journal\.jsonl: follows the save 0123, not the manifest's"):
        load(small_index_dir, small_model_dir)


def test_an_index_saved_before_checksums_loads(small_index_dir: Path, small_model_dir: Path) -> None:
    make_old_format(small_index_dir)
    index = load(small_index_dir, small_model_dir)
    assert len(index) == len(QUESTIONS) and index.query(QUESTIONS["rice"], k=1)[0].id == "rice"
    index.add(["new"], ["is the sky blue?"], journal=True)
    assert "new" in load(small_index_dir, small_model_dir)


def test_the_cli_names_the_corrupt_file_without_a_traceback(
    small_index_dir: Path, small_model_dir: Path
) -> None:
    flip_middle_byte(small_index_dir / "vectors.faiss")
    result = CliRunner().invoke(
        app, ["index", "info", "--index", str(small_index_dir), "--model", str(small_model_dir)]
    )
    assert result.exit_code == 2 and "vectors.faiss: its SHA-256" in result.output
    assert "Traceback" not in result.output


# -- readers change nothing ------------------------------------------------------------------------


def test_a_reader_takes_a_committed_staging_and_leaves_it_for_the_writer(
    small_index_dir: Path, small_model_dir: Path
) -> None:
    """A writer killed halfway through moving its files: readers see its save whole, and delete nothing."""
    model = Siamese.load(small_model_dir)
    index = DuplicateIndex.load(small_index_dir, model)
    index.add(["new"], ["is python hard?"])
    copy = small_index_dir.parent / "copy"
    index.save(copy)
    staging = small_index_dir / STAGING
    staging.mkdir()
    order = []
    for name in ("entries.jsonl", "vectors.faiss", CHECKSUMS, "manifest.json", "journal.jsonl"):
        shutil.copy(copy / name, staging / name)
        order.append(name)
    (staging / COMPLETE).write_text(json.dumps(order))
    shutil.move(staging / "entries.jsonl", small_index_dir / "entries.jsonl")  # moved before the kill
    before = sorted(p.relative_to(small_index_dir) for p in small_index_dir.rglob("*"))
    assert "new" in DuplicateIndex.load(small_index_dir, model)
    assert sorted(p.relative_to(small_index_dir) for p in small_index_dir.rglob("*")) == before
    DuplicateIndex.load(small_index_dir, model).save()  # a writer finishes the move and cleans up
    assert not staging.exists() and "new" in DuplicateIndex.load(small_index_dir, model)

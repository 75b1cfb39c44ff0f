import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from siamdup.storage import COMPLETE, STAGING, StoredFiles, atomic_directory, recover


def write(directory: Path, version: int) -> None:
    with atomic_directory(directory) as staging:
        for name in ("a.json", "b.json", "c.json"):
            (staging / name).write_text(json.dumps({"version": version}))


def versions(directory: Path) -> set[int]:
    return {json.loads((directory / n).read_text())["version"] for n in ("a.json", "b.json", "c.json")}


def test_save_replaces_all_files_together(tmp_path: Path) -> None:
    write(tmp_path, 1)
    write(tmp_path, 2)
    assert versions(tmp_path) == {2}
    assert not (tmp_path / STAGING).exists()


def test_error_inside_the_block_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path, 1)
    with pytest.raises(RuntimeError), atomic_directory(tmp_path) as staging:
        (staging / "a.json").write_text(json.dumps({"version": 2}))
        raise RuntimeError("killed mid-save")
    assert versions(tmp_path) == {1}
    assert not (tmp_path / STAGING).exists()


def test_recover_rolls_forward_a_committed_save_and_back_an_uncommitted_one(tmp_path: Path) -> None:
    write(tmp_path, 1)
    # Committed, then killed after moving one file of three: the reader must see version 2 everywhere.
    staging = tmp_path / STAGING
    staging.mkdir()
    for n in ("a.json", "b.json", "c.json"):
        (staging / n).write_text(json.dumps({"version": 2}))
    (staging / COMPLETE).write_text(json.dumps(["a.json", "b.json", "c.json"]))
    os.replace(staging / "a.json", tmp_path / "a.json")
    recover(tmp_path)
    assert versions(tmp_path) == {2}
    # Not committed: the staged files are discarded.
    staging.mkdir()
    (staging / "a.json").write_text(json.dumps({"version": 3}))
    recover(tmp_path)
    assert versions(tmp_path) == {2} and not staging.exists()


def test_sigkill_during_saves_never_leaves_a_mixed_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Kill a process that saves a real model over and over; the directory must always load whole."""
    target = tmp_path / "model"
    script = textwrap.dedent(f"""
        import itertools
        from siamdup import Siamese
        m = Siamese.load({str(tiny_model_dir)!r})
        for i in itertools.count():
            m.threshold = i / 1e6  # each save writes a distinguishable version
            m.save({str(target)!r}, extra_files={{"metrics.json": {{"version": i}}}})
            print(i, flush=True)
    """)
    from siamdup import Siamese

    for delay in (0.6, 0.9, 1.3):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "0"  # at least one save done
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        model = Siamese.load(target)
        metrics = json.loads(StoredFiles(target).read_bytes("metrics.json"))  # as a reader sees it
        assert model.threshold == metrics["version"] / 1e6  # config and metrics from the same save
        assert model.encode(["is chess hard?"]).shape == (1, 32)

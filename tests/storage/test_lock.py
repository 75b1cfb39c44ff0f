"""One writer per directory: a second writer is refused by name, a killed holder never blocks anyone."""

import logging
import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from siamdup import Siamese
from siamdup.cli import app
from siamdup.index import DuplicateIndex
from siamdup.storage import LOCK_FILE, DirectoryLockedError, holds_lock, writer_lock
from siamdup.storage import lock as lock_module
from tests.storage.conftest import python_process

# Loads the lock module by its path, so the holder starts without importing torch through `siamdup`.
HOLDER = f"""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("lock", {str(Path(lock_module.__file__))!r})
    lock = sys.modules["lock"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    with lock.writer_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.readline()  # hold it until the test says so (or kills us)
"""


def start_holder(directory: Path):
    proc = python_process(HOLDER, str(directory), "--holding-for-a-test")
    assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
    return proc


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(DirectoryLockedError) as refused, writer_lock(tmp_path):
            pass
        assert refused.value.holder.pid == holder.pid
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and "--holding-for-a-test" in message
        assert str(tmp_path) in message and "one writer at a time" in message
    finally:
        holder.communicate("done\n")
    assert holder.returncode == 0
    with writer_lock(tmp_path):  # released: the next writer gets it
        assert holds_lock(tmp_path)
    assert not holds_lock(tmp_path)


def test_every_save_and_journal_append_takes_the_lock(small_index_dir: Path, small_model_dir: Path) -> None:
    model = Siamese.load(small_model_dir)
    index = DuplicateIndex.load(small_index_dir, model)
    holder = start_holder(small_index_dir)
    try:
        with pytest.raises(DirectoryLockedError, match=f"pid {holder.pid}"):
            index.save()
        with pytest.raises(DirectoryLockedError, match=f"pid {holder.pid}"):
            index.add(["new"], ["is chess hard?"], journal=True)
    finally:
        holder.communicate("done\n")
    model_holder = start_holder(small_model_dir)
    try:
        with pytest.raises(DirectoryLockedError, match=f"pid {model_holder.pid}"):
            model.save(small_model_dir)
        assert Siamese.load(small_model_dir).fingerprint() == model.fingerprint()  # readers are welcome
    finally:
        model_holder.communicate("done\n")


def test_a_holder_killed_with_sigkill_leaves_no_blocking_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = start_holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert str(holder.pid) in (tmp_path / LOCK_FILE).read_text()  # its details are still in the file
    with caplog.at_level(logging.WARNING), writer_lock(tmp_path):
        assert holds_lock(tmp_path)
    assert f"pid {holder.pid} (no longer running)" in caplog.text  # the stale lock was seen and taken over
    assert (tmp_path / LOCK_FILE).read_text() == ""  # released cleanly this time


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    with writer_lock(tmp_path), writer_lock(tmp_path / "."):
        assert holds_lock(tmp_path)
    assert not holds_lock(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such directory"), writer_lock(tmp_path / "absent"):
        pass


def test_index_add_is_refused_while_serve_holds_the_index(
    small_index_dir: Path, small_model_dir: Path, tmp_path: Path
) -> None:
    """`siamdup serve --index DIR` holds DIR for its whole life, so a concurrent `index add` is refused
    by name instead of being lost when the server saves."""
    serve = python_process(
        "from siamdup.cli import app; app()",
        "serve",
        "--model",
        str(small_model_dir),
        "--index",
        str(small_index_dir),
        "--port",
        "0",
    )
    try:
        lines = [serve.stderr.readline()]
        while lines[-1] and "serving on" not in lines[-1]:  # it holds the lock before it says so
            lines.append(serve.stderr.readline())
        assert "serving on" in lines[-1], "".join(lines)
        (tmp_path / "new.txt").write_text("is python hard?\n")
        result = CliRunner().invoke(
            app, ["index", "add", "--index", str(small_index_dir), "--input", str(tmp_path / "new.txt")]
        )
        assert result.exit_code == 2
        assert f"pid {serve.pid}" in result.output and "serve" in result.output
        assert len(DuplicateIndex.load(small_index_dir, Siamese.load(small_model_dir))) == 5  # nothing added
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)


@pytest.mark.parametrize("command", ["train", "ensemble"])
def test_model_writers_are_refused_by_name_while_another_holds_the_folder(
    command: str, tmp_path: Path, small_model_dir: Path
) -> None:
    out = tmp_path / "model"
    out.mkdir()
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("question1,question2,is_duplicate\nis chess hard?,how do i learn chess?,1\n")
    args = {
        "train": ["train", "--train", str(pairs), "--dev", str(pairs), "--out", str(out)],
        "ensemble": [
            "ensemble",
            str(small_model_dir),
            str(small_model_dir),
            "--dev",
            str(pairs),
            "--out",
            str(out),
        ],
    }[command]
    holder = start_holder(out)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        holder.communicate("done\n")
    assert result.exit_code == 2, result.output
    assert f"pid {holder.pid}" in result.output and "one writer at a time" in result.output

"""The code base stays ruff-clean (lint and format) and mypy-clean; part of the test command so CI enforces
it. The large-file guard of the pre-commit hooks is tested on a scratch repository."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command: list[str]) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [ruff, *command, "src", "tests", "benchmarks", "scripts"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    mypy = shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed (pip install -e '.[dev]')")
    # The files and settings are [tool.mypy]'s in pyproject.toml, as for `mypy` on the command line.
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _check_large_files(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.check_large_files", "--max-kb", "1"],
        cwd=repo,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_large_file_guard_refuses_staged_weights_only(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _git(tmp_path, "init", "-q")
    _git(
        tmp_path,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 4096)
    (tmp_path / "config.json").write_text("{}")
    assert _check_large_files(tmp_path).returncode == 0  # not staged: already committed files pass

    _git(tmp_path, "add", "model.safetensors", "config.json")
    refused = _check_large_files(tmp_path)
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == [
        "model.safetensors: 4 KB staged, over the 1 KB limit (weights change only at a release)"
    ]

    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", "release")
    (tmp_path / "model.safetensors").write_bytes(b"\1" * 4096)  # changed weights, not only new ones
    _git(tmp_path, "add", "model.safetensors")
    assert _check_large_files(tmp_path).returncode == 1

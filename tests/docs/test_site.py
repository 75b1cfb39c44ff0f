"""The docs site builds with `mkdocs build --strict`, and the README stays a short way in."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 250


def test_readme_is_short_and_keeps_the_setup_commands() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines (at most {README_MAX_LINES})"
    assert any(line.startswith('pip install -e ".[dev]"') for line in lines)
    assert any(line.startswith("python -m pytest -q") for line in lines)


def test_site_builds_strict(tmp_path: Path) -> None:
    missing = [
        m
        for m in ("mkdocs", "material", "mkdocstrings_handlers.python")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        pytest.skip(
            f"mkdocs, mkdocs-material or mkdocstrings[python] not installed ({', '.join(missing)}): "
            'pip install -e ".[dev]"'
        )
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'src'}:{os.environ.get('PYTHONPATH', '')}",
        "NO_MKDOCS_2_WARNING": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    for page in ("index.html", "reference/cli/index.html", "results/accuracy/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    cli = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "siamdup index add" in cli and "--id-column" in cli  # generated from the typer app
    accuracy = (tmp_path / "site" / "results" / "accuracy" / "index.html").read_text(encoding="utf-8")
    assert "0.8565" in accuracy and "{{ csv_table" not in accuracy  # the table came from models.csv

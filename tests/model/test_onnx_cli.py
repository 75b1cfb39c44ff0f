"""`siamdup export --onnx` and `--runtime`, as the ONNX guide shows them."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from siamdup.cli import app
from siamdup.model.onnx_runtime import RUNTIME_ENV

pytest.importorskip("onnxruntime", reason='the ONNX export needs: pip install "siamdup[onnx]"')
pytest.importorskip("onnx", reason='the ONNX export needs: pip install "siamdup[onnx]"')

runner = CliRunner()


@pytest.fixture(autouse=True)
def _runtime_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    # --runtime sets $SIAMDUP_RUNTIME for the rest of its process; give it back after each test.
    monkeypatch.setenv(RUNTIME_ENV, "auto")


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def similarity(model: Path, runtime: str) -> float:
    result = run(
        "predict", "--model", model, "--runtime", runtime, "--json", "How old are you?", "What is your age?"
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["similarity"]


def test_export_then_predict_on_either_runtime(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "models" / "qqp-onnx"
    result = run("export", "--model", tiny_model_dir, "--onnx", out)
    assert result.exit_code == 0, result.output
    assert "exported encoder.onnx" in result.stdout and (out / "encoder.onnx").is_file()
    assert "differ from PyTorch's by at most" in result.output
    assert abs(similarity(out, "onnx") - similarity(out, "torch")) < 1e-4
    refused = run("predict", "--model", tiny_model_dir, "--runtime", "onnx", "a?", "b?")
    assert refused.exit_code == 2 and "holds no encoder.onnx: export it first" in refused.output
    bad = run("predict", "--model", out, "--runtime", "tensorrt", "a?", "b?")
    assert bad.exit_code == 2 and "Invalid value" in bad.output


def test_export_refuses_to_replace_another_model(
    tiny_model_dir: Path, untrained_twin_dir: Path, tmp_path
) -> None:
    other = tmp_path / "other"
    assert run("export", "--model", untrained_twin_dir, "--onnx", other).exit_code == 0
    result = run("export", "--model", tiny_model_dir, "--onnx", other)
    assert result.exit_code == 2 and "already holds a model: pass --overwrite" in result.output
    assert run("export", "--model", tiny_model_dir, "--onnx", other, "--overwrite").exit_code == 0
    in_place = run("export", "--model", other, "--onnx", other)  # the directory gains (again) its graph
    assert in_place.exit_code == 0, in_place.output


def test_missing_extra_is_named(tiny_model_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = run("export", "--model", tiny_model_dir, "--onnx", tmp_path / "out")
    assert result.exit_code == 2
    assert 'pip install "siamdup[onnx]"' in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()

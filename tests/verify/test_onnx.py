import shutil
from pathlib import Path

import numpy as np
import pytest
from verifier_samples import one_thread

from siamdup.verify import OnnxVerifier, Verifier, VerifierLoadError, export_onnx, load_verifier

pytest.importorskip(
    "onnxruntime", reason='ONNX Runtime is part of the verify extra: pip install "siamdup[verify]"'
)

Q1 = ["How old are you?", "how do i learn chess?", "Where are you from?", "why?", "is yoga hard?"]
Q2 = [
    "What is your age?",
    "is it hard to pick up chess and go at once?",
    "Where are you going?",
    "how?",
    "yoga",
]


@pytest.fixture(scope="module")
def exported(random_verifier_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx") / "verifier"
    shutil.copytree(random_verifier_dir, folder)
    with one_thread():
        export_onnx(Verifier.load(folder), int8=True)
    return folder


def test_onnx_gives_the_probabilities_of_pytorch(exported: Path) -> None:
    torch_verifier, onnx_verifier = Verifier.load(exported), OnnxVerifier.load(exported, threads=1)
    with one_thread():
        expected = torch_verifier.score(Q1, Q2, batch_size=2)
    for batch_size in (1, 2, 64):  # other batch and sequence shapes than the export saw
        assert np.abs(onnx_verifier.score(Q1, Q2, batch_size=batch_size) - expected).max() < 1e-4
    assert (onnx_verifier.threshold, onnx_verifier.temperature) == (torch_verifier.threshold, 1.5)


def test_int8_graph_is_smaller_and_close(exported: Path) -> None:
    assert (exported / "model.int8.onnx").stat().st_size < (exported / "model.onnx").stat().st_size / 2
    full, int8 = OnnxVerifier.load(exported, threads=1), OnnxVerifier.load(exported, int8=True, threads=1)
    assert np.abs(full.score(Q1, Q2) - int8.score(Q1, Q2)).max() < 0.05


def test_auto_runtime_takes_the_export_and_a_stale_export_is_refused(exported: Path, tmp_path: Path) -> None:
    assert isinstance(load_verifier(exported), OnnxVerifier)
    assert isinstance(load_verifier(exported, "torch"), Verifier)
    retrained = tmp_path / "retrained"
    shutil.copytree(exported, retrained)
    verifier = Verifier.load(retrained)
    for parameter in verifier.encoder.head.parameters():
        parameter.data += 1.0
    verifier.save(retrained)
    with pytest.raises(VerifierLoadError, match="export it again"):
        OnnxVerifier.load(retrained)


def test_no_export_names_the_command(random_verifier_dir: Path) -> None:
    with pytest.raises(VerifierLoadError, match="siamdup verify export"):
        OnnxVerifier.load(random_verifier_dir)

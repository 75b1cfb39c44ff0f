"""The encoder exported to ONNX: the same vectors as PyTorch, a whole model directory, checked on load."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.model.encoder import EncoderConfig, LSTMEncoder
from siamdup.model.ensemble import EnsembleEncoder
from siamdup.model.onnx_export import UnsupportedExport, encoder_graph, export_onnx
from siamdup.model.onnx_runtime import RUNTIME_ENV, OnnxExtraMissing
from siamdup.model.siamese import ModelLoadError

ORT = pytest.importorskip("onnxruntime", reason='the ONNX export needs: pip install "siamdup[onnx]"')
pytest.importorskip("onnx", reason='the ONNX export needs: pip install "siamdup[onnx]"')

QUESTIONS = [
    "why?",
    "x",
    "How old are you?",
    "What is your age?",
    "how do i learn chess?",
    "what is the best way to learn french and how long does it take for an adult beginner?",
    "",
    "Where can I buy cheap flights to Paris from London in the summer? " * 12,  # beyond max_length
    "is yoga hard?",
]


@pytest.fixture(autouse=True)
def _runtime_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUNTIME_ENV, raising=False)


@pytest.fixture(scope="module")
def exported_tiny(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny_onnx") / "model"
    export_onnx(Siamese.load(tiny_model_dir), out)
    return out


@pytest.fixture(scope="module")
def exported_shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shipped_onnx") / "model"
    export_onnx(Siamese.load(), out)
    return out


def assert_same_vectors(onnx: Siamese, reference: Siamese, texts: list[str]) -> None:
    assert onnx.runtime == "onnx" and reference.runtime == "torch"
    expected = reference.encode(texts)
    for batch_size in (3, 512):
        assert np.abs(onnx.encode(texts, batch_size=batch_size) - expected).max() < 1e-4
    one_by_one = np.stack([onnx.encode([t])[0] for t in QUESTIONS])  # batches of one
    assert np.abs(one_by_one - reference.encode(QUESTIONS)).max() < 1e-4


def test_shipped_model_on_onnx_gives_pytorchs_vectors(exported_shipped: Path) -> None:
    onnx = Siamese.load(exported_shipped)  # "auto": the graph is there and onnxruntime installed
    torch_model = Siamese.load()
    lengths = [len(ids) for ids in torch_model.tokenizer.tokenize(QUESTIONS)]
    assert min(lengths) == 1 and max(lengths) == torch_model.tokenizer.max_length
    assert_same_vectors(onnx, torch_model, QUESTIONS * 30)  # 270 questions: full and ragged batches
    assert onnx.fingerprint() == torch_model.fingerprint()  # an index built with either stays valid
    assert onnx.threshold == torch_model.threshold


def test_graph_takes_extra_padding_and_one_row(exported_tiny: Path) -> None:
    model = Siamese.load(exported_tiny)
    ids = model.tokenizer.tokenize(QUESTIONS)
    batch, lengths = model.tokenizer.pad(ids)
    wide = torch.cat([batch, torch.zeros(len(ids), 7, dtype=batch.dtype)], dim=1)
    assert model._onnx is not None
    run = model._onnx.session.run
    got = run(None, {"ids": wide.numpy(), "lengths": lengths.numpy()})[0]
    with torch.inference_mode():
        expected = model.encoder(batch, lengths).numpy()
    assert np.abs(got - expected).max() < 1e-4
    single = run(None, {"ids": batch[:1, : lengths[0]].numpy(), "lengths": lengths[:1].numpy()})[0]
    assert np.abs(single - expected[:1]).max() < 1e-4


def _random_model(tokenizer, **settings) -> Siamese:
    torch.manual_seed(3)
    config = EncoderConfig(vocab_size=tokenizer.vocab_size, pad_id=tokenizer.pad_id, **settings)
    return Siamese(tokenizer, LSTMEncoder(config).eval())


def test_an_ensemble_with_a_deeper_wider_member(tiny_model_dir: Path, tmp_path: Path) -> None:
    tiny = Siamese.load(tiny_model_dir)
    deep = _random_model(
        tiny.tokenizer, d_model=16, num_layers=2, bidirectional=True, pooling="mean+max", embedding_dim=24
    )
    ensemble = Siamese(tiny.tokenizer, EnsembleEncoder([tiny.encoder, deep.encoder], [0.7, 0.3]))
    export_onnx(ensemble, tmp_path / "ensemble")
    assert_same_vectors(Siamese.load(tmp_path / "ensemble"), ensemble, QUESTIONS)


def test_exported_directory_is_a_whole_model(tiny_model_dir: Path, exported_tiny: Path) -> None:
    names = {p.name for p in exported_tiny.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "encoder.onnx", "onnx.json"} <= names
    assert (exported_tiny / "metrics.json").read_bytes() == (tiny_model_dir / "metrics.json").read_bytes()
    checksums = (exported_tiny / "checksums.sha256").read_text()
    assert "  encoder.onnx\n" in checksums and "  onnx.json\n" in checksums
    as_torch = Siamese.load(exported_tiny, runtime="torch")
    assert as_torch.runtime == "torch"
    assert np.array_equal(as_torch.encode(QUESTIONS), Siamese.load(tiny_model_dir).encode(QUESTIONS))


def _copy(source: Path, target: Path) -> Path:
    target.mkdir()
    for path in source.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


def test_corrupt_graph_is_refused_by_name(exported_tiny: Path, tmp_path: Path) -> None:
    damaged = _copy(exported_tiny, tmp_path / "damaged")
    graph = bytearray((damaged / "encoder.onnx").read_bytes())
    graph[len(graph) // 2] ^= 0xFF
    (damaged / "encoder.onnx").write_bytes(bytes(graph))
    for runtime in ("auto", "onnx"):
        with pytest.raises(ModelLoadError, match=r"encoder\.onnx: its SHA-256 is"):
            Siamese.load(damaged, runtime=runtime)
    assert Siamese.load(damaged, runtime="torch").runtime == "torch"  # the graph is not read


def test_graph_of_other_weights_is_not_used(
    exported_tiny: Path, untrained_twin_dir: Path, tmp_path: Path
) -> None:
    stale = _copy(exported_tiny, tmp_path / "stale")
    other = Siamese.load(untrained_twin_dir)
    other.save(stale)  # new weights; the old encoder.onnx stays beside them
    model = Siamese.load(stale)
    assert model.runtime == "torch"
    assert np.array_equal(model.encode(QUESTIONS), other.encode(QUESTIONS))
    with pytest.raises(ModelLoadError, match="exported from other weights"):
        Siamese.load(stale, runtime="onnx")


def test_changing_the_weights_in_memory_leaves_the_graph(exported_tiny: Path) -> None:
    model = Siamese.load(exported_tiny)
    before = model.encode(QUESTIONS)
    with torch.no_grad():
        model.encoder.lstm.weight_hh_l0.mul_(0.5)  # as an optimiser step would
    assert model.runtime == "torch"
    after = model.encode(QUESTIONS)
    assert np.abs(after - before).max() > 1e-3
    with torch.inference_mode():
        expected = model.encoder(*model.tokenizer(QUESTIONS)).numpy()
    assert np.abs(after - expected).max() < 1e-6


def test_runtime_choice_and_the_environment(exported_tiny: Path, tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    assert Siamese.load(exported_tiny).runtime == "torch"
    assert Siamese.load(exported_tiny, runtime="onnx").runtime == "onnx"
    monkeypatch.setenv(RUNTIME_ENV, "tensorrt")
    with pytest.raises(ModelLoadError, match=r"SIAMDUP_RUNTIME must be one of auto, torch, onnx"):
        Siamese.load(exported_tiny)
    monkeypatch.delenv(RUNTIME_ENV)
    with pytest.raises(ModelLoadError, match=r"holds no encoder\.onnx: export it first"):
        Siamese.load(tiny_model_dir, runtime="onnx")
    assert Siamese.load(tiny_model_dir).runtime == "torch"


def test_index_uses_the_graph_unchanged(exported_tiny: Path, tiny_model_dir: Path) -> None:
    texts = QUESTIONS[:6]
    ids = [f"q{n}" for n in range(len(texts))]
    results = []
    for model in (Siamese.load(exported_tiny), Siamese.load(tiny_model_dir)):
        index = DuplicateIndex(model)
        index.add(ids, texts)
        results.append(index.query_many(["how can i get good at chess?", "what is your age?"], 3))
    onnx_hits, torch_hits = results
    for got, expected in zip(onnx_hits, torch_hits, strict=True):
        assert [h.id for h in got] == [h.id for h in expected]
        assert np.allclose([h.similarity for h in got], [h.similarity for h in expected], atol=1e-4)


def test_missing_onnxruntime_is_named(
    exported_tiny: Path, tiny_model_dir: Path, monkeypatch, tmp_path
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now raises ImportError
    assert Siamese.load(exported_tiny).runtime == "torch"  # "auto" falls back quietly
    with pytest.raises(ModelLoadError, match=r'onnxruntime: pip install "siamdup\[onnx\]"'):
        Siamese.load(exported_tiny, runtime="onnx")
    with pytest.raises(OnnxExtraMissing, match=r'pip install "siamdup\[onnx\]"'):
        export_onnx(Siamese.load(tiny_model_dir), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    monkeypatch.setitem(sys.modules, "onnxruntime", ORT)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(OnnxExtraMissing, match=r'needs the onnx package: pip install "siamdup\[onnx\]"'):
        export_onnx(Siamese.load(tiny_model_dir), tmp_path / "out")


def test_transformer_encoder_is_refused_clearly() -> None:
    pytest.importorskip("transformers")
    from siamdup.model.transformer import TransformerConfig, TransformerEncoder

    hf = dict(model_type="bert", vocab_size=20, hidden_size=8, num_hidden_layers=1, num_attention_heads=2)
    encoder = TransformerEncoder(
        TransformerConfig(hf_config={**hf, "intermediate_size": 16}, cls_id=1, sep_id=2, pad_id=0)
    )
    with pytest.raises(UnsupportedExport, match=r"covers BiLSTM encoders .* not the transformer encoder"):
        encoder_graph(encoder)


def test_export_record_names_the_weights(exported_tiny: Path) -> None:
    record = json.loads((exported_tiny / "onnx.json").read_text())
    checksums = dict(
        reversed(line.split("  ")) for line in (exported_tiny / "checksums.sha256").read_text().splitlines()
    )
    assert record["weights_sha256"] == checksums["model.safetensors"]
    assert record["graph"] == "encoder.onnx"

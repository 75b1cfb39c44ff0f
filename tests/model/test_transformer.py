import json
import sys
from pathlib import Path

import pytest
import torch

from siamdup import Siamese
from siamdup.model.precision import bf16_supported
from siamdup.model.siamese import ModelLoadError
from siamdup.model.transformer import TransformerConfig, TransformerEncoder, import_transformers
from siamdup.tokenizer import Tokenizer

CLS, SEP, PAD = 1, 2, 0


def tiny_encoder(bf16: bool = False) -> TransformerEncoder:
    """A randomly initialised 2-layer BERT: the wiring, not the pretrained weights."""
    pytest.importorskip("transformers", reason='needs: pip install "siamdup[transformers]"')
    hf_config = dict(
        model_type="bert",
        vocab_size=40,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    config = TransformerConfig(hf_config=hf_config, cls_id=CLS, sep_id=SEP, pad_id=PAD, bf16=bf16)
    return TransformerEncoder(config).eval()


def one_by_one(encoder: TransformerEncoder, questions: list[list[int]]) -> torch.Tensor:
    """The slow reference: each question alone, as [CLS] question [SEP], no padding, mean of every position."""
    out = []
    for ids in questions:
        tokens = torch.tensor([[CLS, *ids, SEP]])
        hidden = encoder.transformer(input_ids=tokens).last_hidden_state[0]
        out.append(torch.nn.functional.normalize(hidden.mean(dim=0), dim=0))
    return torch.stack(out)


def padded(questions: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(q) for q in questions])
    ids = torch.full((len(questions), int(lengths.max())), PAD)
    for i, q in enumerate(questions):
        ids[i, : len(q)] = torch.tensor(q)
    return ids, lengths


QUESTIONS = [[5, 6, 7], [8], [9, 10, 11, 12, 13, 14, 15, 16], [0, 5], [17, 18, 19, 20], [21] * 12]


def test_batched_bucketed_encoding_matches_each_question_alone() -> None:
    encoder = tiny_encoder()
    # Many rows of mixed lengths, so the batch is cut into several buckets; PAD (0) also occurs as a real token.
    questions = QUESTIONS * 12
    ids, lengths = padded(questions)
    with torch.no_grad():
        batched = encoder(ids, lengths)
        reference = one_by_one(encoder, questions)
    assert batched.shape == (len(questions), 32)
    torch.testing.assert_close(batched, reference, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(batched.norm(dim=1), torch.ones(len(questions)))


def test_gradients_match_each_question_alone() -> None:
    encoder = tiny_encoder()
    ids, lengths = padded(QUESTIONS)
    encoder(ids, lengths).sum().backward()
    batched = {n: p.grad.clone() for n, p in encoder.named_parameters() if p.grad is not None}
    encoder.zero_grad()
    one_by_one(encoder, QUESTIONS).sum().backward()
    for name, p in encoder.named_parameters():
        if name in batched:
            torch.testing.assert_close(batched[name], p.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.skipif(not bf16_supported("cpu"), reason="this CPU has no native bfloat16 arithmetic")
def test_bf16_autocast_stays_close_to_float32() -> None:
    ids, lengths = padded(QUESTIONS)
    with torch.no_grad():
        exact = tiny_encoder(bf16=False)(ids, lengths)
        fast = tiny_encoder(bf16=True)(ids, lengths)
    assert fast.dtype == torch.float32
    assert (exact - fast).abs().max() < 0.05
    assert not torch.equal(exact, fast)  # autocast did run in bfloat16


def test_bf16_without_native_bfloat16_runs_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("siamdup.model.transformer.bf16_supported", lambda device_type: False)
    ids, lengths = padded(QUESTIONS)
    with torch.no_grad():
        assert torch.equal(tiny_encoder(bf16=False)(ids, lengths), tiny_encoder(bf16=True)(ids, lengths))


def test_save_and_load_keep_every_vector(tmp_path: Path) -> None:
    encoder = tiny_encoder()
    words = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "how", "old", "are", "you", "what", "is", "your", "age"]
    tokenizer = Tokenizer.train([" ".join(words)], vocab_size=40, min_frequency=1)
    assert tokenizer.vocab_size <= 40
    model = Siamese(tokenizer, encoder, threshold=0.8)
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["architecture"] == "transformer"
    loaded = Siamese.load(tmp_path / "m")
    texts = ["how old are you", "what is your age"]
    assert (model.encode(texts) == loaded.encode(texts)).all()
    assert loaded.fingerprint() == model.fingerprint() and loaded.threshold == 0.8


def test_unknown_architecture_is_a_clear_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (tmp_path / name).write_bytes((tiny_model_dir / name).read_bytes())
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "architecture": "gru"}))
    with pytest.raises(ModelLoadError, match="unknown architecture 'gru'"):
        Siamese.load(tmp_path)


def test_missing_transformers_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"siamdup\[transformers\]"):
        import_transformers()

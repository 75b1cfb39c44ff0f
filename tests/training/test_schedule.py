import pytest

from siamdup.model.encoder import EncoderConfig, LSTMEncoder
from siamdup.training.components import parameter_groups
from siamdup.training.schedule import lr_at
from siamdup.training.settings import TrainConfig


def test_learning_rate_schedule() -> None:
    c = TrainConfig(lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(0, 100, c) == pytest.approx(0.1)
    assert lr_at(9, 100, c) == pytest.approx(1.0)
    assert lr_at(10, 100, c) == pytest.approx(1.0)
    assert lr_at(55, 100, c) == pytest.approx(0.55)
    assert lr_at(100, 100, c) == pytest.approx(0.1)
    assert all(lr_at(s, 100, c) >= lr_at(s + 1, 100, c) for s in range(10, 120))
    # the time budget ends the decay when it is further along than the steps
    assert lr_at(20, 100, c, time_used=0.5) == pytest.approx(0.55)
    assert lr_at(20, 100, c, time_used=1.0) == pytest.approx(0.1)
    assert lr_at(20, 100, c, time_used=2.0) == pytest.approx(0.1)
    assert lr_at(55, 100, c, time_used=0.1) == pytest.approx(0.55)
    assert lr_at(3, 100, c, time_used=1.0) == pytest.approx(0.4)  # warm-up counts steps only


def test_embedding_lr_ratio_groups_the_table_apart() -> None:
    encoder = LSTMEncoder(EncoderConfig(vocab_size=50, d_model=16, num_layers=2, embedding_dim=24))
    table, others = parameter_groups(encoder, TrainConfig(embedding_lr_ratio=0.1))
    assert table["lr_ratio"] == 0.1 and table["params"] == [encoder.embedding.weight]
    assert others["lr_ratio"] == 1.0
    # every other weight (the projection and the LSTM included) is trained at the full rate, once
    assert sorted(map(id, others["params"])) == sorted(
        id(p) for p in encoder.parameters() if p is not encoder.embedding.weight
    )
    assert len(parameter_groups(encoder, TrainConfig())) == 1


def test_the_clock_steers_the_decay_only_when_it_runs_ahead_of_the_steps() -> None:
    """A run on course to fit its budget gets its rates from the steps alone, however busy the machine."""
    c = TrainConfig(lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(10, 100, c, time_used=0.001) == lr_at(10, 100, c, time_used=0.09) == 1.0
    assert lr_at(30, 100, c, time_used=0.2) == lr_at(30, 100, c, time_used=0.0)
    assert lr_at(30, 100, c, time_used=0.5) == pytest.approx(0.55)  # behind: the clock takes over

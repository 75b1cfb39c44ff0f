"""End to end on real data: train on a 10k-pair slice of the shared QQP train file, evaluate on dev."""

import gzip
import itertools
import json
from pathlib import Path

import pytest
from rich.console import Console

from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.recipes import recipe_config
from siamdup.training.loop import train


@pytest.mark.integration
def test_train_on_real_slice_beats_chance_by_far(qqp_dir: Path, tmp_path: Path) -> None:
    slice_path = tmp_path / "train_10k.tsv.gz"
    with (
        gzip.open(qqp_dir / "train.tsv.gz", "rt", encoding="utf-8") as src,
        gzip.open(slice_path, "wt") as dst,
    ):
        dst.writelines(itertools.islice(src, 10_001))  # the header and 10,000 pairs
    config = recipe_config("default")
    config.epochs, config.max_minutes, config.warmup_steps = 10, 2.0, 20
    metrics = train(slice_path, qqp_dir / "dev.tsv", tmp_path / "model", config, console=Console(quiet=True))
    assert metrics["data"]["train"]["n_kept"] == 10_000
    # Chance is 0.50 on the balanced dev split; a broken pipeline cannot pass 0.62.
    assert metrics["dev"]["accuracy"] > 0.62
    model = Siamese.load(tmp_path / "model")
    dev_pairs, _ = read_pairs(qqp_dir / "dev.tsv")
    report = PairEvaluator(dev_pairs)(model)
    assert report["accuracy"] == pytest.approx(metrics["dev"]["accuracy"], abs=1e-9)  # τ stored and reused
    assert json.loads((tmp_path / "model" / "config.json").read_text())["threshold"] == model.threshold

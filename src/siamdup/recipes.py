"""Named training recipes: `siamdup train --recipe NAME`. Command-line options override a recipe's values."""

from __future__ import annotations

from dataclasses import replace

from siamdup.train import TrainConfig

RECIPES: dict[str, TrainConfig] = {
    # The course's set-up: duplicates only, the mined triplet loss, d_model 128.
    "reference": TrainConfig(loss="mined-triplet", hard_negatives=False, epochs=8),
    # The shipped model's recipe (measured on QQP dev; see the README's figures).
    "default": TrainConfig(),
}


def recipe_config(name: str) -> TrainConfig:
    """A copy of the named recipe's settings."""
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}: choose one of {', '.join(RECIPES)}")
    return replace(RECIPES[name])

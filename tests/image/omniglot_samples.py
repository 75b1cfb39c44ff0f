"""Synthetic drawings in the layout of the Omniglot release: each character a fixed set of random strokes,
each drawing of it the same strokes jittered, so a small CNN can learn what makes two drawings one character."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

REAL_OMNIGLOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "omniglot"
SIDE = 32


def character_strokes(rng: np.random.Generator) -> np.ndarray:
    """2-3 random line segments, endpoints in the unit square."""
    return rng.uniform(0.15, 0.85, size=(int(rng.integers(2, 4)), 4))


def draw(strokes: np.ndarray, rng: np.random.Generator, jitter: float = 0.05, shift: float = 0.12) -> bytes:
    """A PNG of the strokes, black on white, the whole drawing moved and each endpoint moved a little."""
    image = Image.new("L", (SIDE, SIDE), 255)
    pen = ImageDraw.Draw(image)
    offset = np.tile(rng.uniform(-shift, shift, 2), 2)
    for segment in strokes + offset + rng.normal(0, jitter, strokes.shape):
        pen.line([tuple(segment[:2] * SIDE), tuple(segment[2:] * SIDE)], fill=0, width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_background(path: Path, split: str, alphabets: dict[str, int], drawings: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w") as archive:
        for alphabet, n_characters in alphabets.items():
            for c in range(1, n_characters + 1):
                strokes = character_strokes(rng)
                for d in range(1, drawings + 1):
                    name = f"images_background_{split}/{alphabet}/character{c:02d}/{c:04d}_{d:02d}.png"
                    archive.writestr(name, draw(strokes, rng))


def write_runs(path: Path, n_runs: int, ways: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w") as archive:
        for r in range(1, n_runs + 1):
            order = rng.permutation(ways)
            labels = []
            for c in range(ways):
                strokes = character_strokes(rng)
                archive.writestr(f"run{r:02d}/training/class{c + 1:02d}.png", draw(strokes, rng))
                item = int(np.where(order == c)[0][0]) + 1
                archive.writestr(f"run{r:02d}/test/item{item:02d}.png", draw(strokes, rng))
                labels.append((item, c + 1))
            text = "".join(
                f"run{r:02d}/test/item{i:02d}.png run{r:02d}/training/class{c:02d}.png\n"
                for i, c in sorted(labels)
            )
            archive.writestr(f"run{r:02d}/class_labels.txt", text)


@pytest.fixture(scope="session")
def synthetic_omniglot(tmp_path_factory) -> Path:
    """An Omniglot-shaped folder: two background zips sharing one alphabet (as Greek and Latin are shared),
    and 4 five-way runs."""
    folder = tmp_path_factory.mktemp("omniglot")
    shared = {"Shared": 6}
    write_background(folder / "images_background_small1.zip", "small1", {"Alpha": 8, **shared}, 6, seed=1)
    write_background(folder / "images_background_small2.zip", "small2", {"Beta": 8, "Gamma": 6}, 6, seed=2)
    # The shared alphabet again in small2, drawn differently: a reader that does not de-duplicate shows it.
    with zipfile.ZipFile(folder / "images_background_small2.zip", "a") as archive:
        rng = np.random.default_rng(3)
        for c in range(1, 7):
            for d in range(1, 7):
                name = f"images_background_small2/Shared/character{c:02d}/{c:04d}_{d:02d}.png"
                archive.writestr(name, draw(character_strokes(rng), rng))
    write_runs(folder / "all_runs.zip", n_runs=4, ways=5, seed=4)
    return folder


def needs_real_omniglot() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not (REAL_OMNIGLOT / "all_runs.zip").is_file(), reason=f"the Omniglot data is not at {REAL_OMNIGLOT}"
    )

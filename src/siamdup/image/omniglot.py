"""The Omniglot release as its authors ship it, read straight from the zips (never unpacked).

Background: `images_background_small1.zip` and `small2.zip` (5 alphabets each; Greek and Latin are in both,
byte for byte, and are read once). One-shot runs: `all_runs.zip`, 20 runs of 20 training images (one per
character) and 20 test items, each run's answers in its `class_labels.txt`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siamdup.image.reading import read_image

SPLITS = ("small1", "small2")
RUNS_ZIP = "all_runs.zip"
_IMAGE = re.compile(r"^images_background_\w+/([^/]+)/(character\d+)/[^/]+\.png$")
_LABEL = re.compile(r"^(run\d+)/test/(item\d+)\.png\s+\1/training/(class\d+)\.png$")


class OmniglotDataError(ValueError):
    """The Omniglot folder lacks a zip, or a zip is not laid out as the release lays it out."""


@dataclass
class Characters:
    """Drawings of characters: `images[c, k]` is drawing k of character `names[c]` (alphabet, character)."""

    names: list[tuple[str, str]]
    images: np.ndarray  # (characters, drawings, size, size) float32, ink 1

    @property
    def alphabets(self) -> list[str]:
        return sorted({alphabet for alphabet, _ in self.names})

    def select(self, alphabets: set[str], keep: bool = True) -> Characters:
        """The characters of `alphabets` (or, with keep=False, of every other alphabet)."""
        rows = [i for i, (alphabet, _) in enumerate(self.names) if (alphabet in alphabets) == keep]
        return Characters([self.names[i] for i in rows], self.images[rows])


@dataclass
class OneShotRun:
    """One N-way one-shot run: `answers[i]` is the row of `training` that test item i shows."""

    name: str
    training: np.ndarray  # (N, size, size)
    test: np.ndarray  # (M, size, size)
    answers: np.ndarray  # (M,) int


def _zip(folder: Path, name: str) -> zipfile.ZipFile:
    path = Path(folder) / name
    if not path.is_file():
        raise OmniglotDataError(f"{path} is missing: the Omniglot folder needs {name} (see its README)")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise OmniglotDataError(f"{path} is not a readable zip ({e})") from None


def load_background(folder: str | Path, size: int, splits: tuple[str, ...] = SPLITS) -> Characters:
    """Every character of the background `splits`, each alphabet once, in a fixed order."""
    drawings: dict[tuple[str, str], list[np.ndarray]] = {}
    for split in splits:
        with _zip(Path(folder), f"images_background_{split}.zip") as archive:
            seen_here: set[tuple[str, str]] = set()
            for member in sorted(archive.namelist()):
                match = _IMAGE.match(member)
                if match is None:
                    continue
                key = (match[1], match[2])
                if key in drawings and key not in seen_here:
                    continue  # an alphabet an earlier split already gave (Greek, Latin)
                seen_here.add(key)
                image = read_image(archive.read(member), size, name=f"{archive.filename}:{member}")
                drawings.setdefault(key, []).append(image)
    if not drawings:
        raise OmniglotDataError(f"no background images found in {folder} for splits {', '.join(splits)}")
    names = sorted(drawings)
    per_character = min(len(drawings[n]) for n in names)
    images = np.stack([np.stack(drawings[n][:per_character]) for n in names])
    return Characters(names, images)


def load_runs(folder: str | Path, size: int) -> list[OneShotRun]:
    """The standard one-shot runs of `all_runs.zip`, in order (run01 … run20)."""
    runs = []
    with _zip(Path(folder), RUNS_ZIP) as archive:
        listed = archive.namelist()
        for run in sorted({m.split("/")[0] for m in listed if re.match(r"^run\d+/class_labels\.txt$", m)}):
            answers: dict[str, str] = {}
            for line in archive.read(f"{run}/class_labels.txt").decode().splitlines():
                match = _LABEL.match(line.strip())
                if match is None:
                    if line.strip():
                        raise OmniglotDataError(
                            f"{archive.filename}:{run}/class_labels.txt: bad line {line!r}"
                        )
                    continue
                answers[match[2]] = match[3]
            classes = sorted(
                {m.split("/")[-1][:-4] for m in listed if m.startswith(f"{run}/training/")} - {""}
            )
            items = sorted(answers)

            def read(part: str, stem: str, run: str = run) -> np.ndarray:
                member = f"{run}/{part}/{stem}.png"
                return read_image(archive.read(member), size, name=f"{archive.filename}:{member}")

            runs.append(
                OneShotRun(
                    name=run,
                    training=np.stack([read("training", c) for c in classes]),
                    test=np.stack([read("test", i) for i in items]),
                    answers=np.array([classes.index(answers[i]) for i in items]),
                )
            )
    if not runs:
        raise OmniglotDataError(f"{Path(folder) / RUNS_ZIP} holds no runNN/class_labels.txt")
    return runs

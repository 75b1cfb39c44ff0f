"""Reading the two files every saved model has: `config.json` and `model.safetensors`, from a consistent
version of its directory (`StoredFiles`), with a `CorruptFileError` naming the file when either is damaged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from torch import nn

from siamdup.storage.checksums import ChecksumMismatchError, CorruptFileError
from siamdup.storage.reading import StaleReadError, StoredFiles, read_consistently

CONFIG = "config.json"
WEIGHTS = "model.safetensors"

T = TypeVar("T")


def load_stored(
    directory: Path,
    read: Callable[[StoredFiles], T],
    error: type[Exception],
    remedy: str,
    corrupt_remedy: str | None = None,
) -> T:
    """`read` a consistent version of `directory`, any failure raised as `error` naming what is at fault:
    a checksum mismatch (followed by `remedy`), a damaged or changing file (by `corrupt_remedy` if given),
    or anything else that reading met (weights of another shape, a truncated file saved before checksums)."""
    try:
        return read_consistently(directory, read)
    except error:
        raise
    except ChecksumMismatchError as e:
        raise error(f"{e}. {remedy}") from None
    except CorruptFileError as e:
        raise error(f"{e}. {corrupt_remedy}" if corrupt_remedy else str(e)) from None
    except StaleReadError as e:
        raise error(str(e)) from None
    except (ValueError, TypeError, KeyError, RuntimeError, OSError, SafetensorError) as e:
        raise error(f"{directory} is damaged: {type(e).__name__}: {e}") from e


def read_config(files: StoredFiles) -> Any:
    """The parsed `config.json` (not yet validated)."""
    try:
        return json.loads(files.read_bytes(CONFIG, editable=True))
    except ValueError as e:
        raise CorruptFileError(files.directory / CONFIG, f"not valid JSON: {e}") from None


def load_weights(files: StoredFiles, module: nn.Module, built_from: str = "encoder") -> None:
    """Load `model.safetensors` into `module` (built from the config, `built_from` naming what it is)."""
    path = files.directory / WEIGHTS
    with files.open(WEIGHTS) as f:
        weights = f.read()
    try:
        state = load_safetensors(weights)
    except SafetensorError as e:
        raise CorruptFileError(path, f"not readable weights: {e}") from None
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).splitlines()[1:2] or [str(e)]
        raise CorruptFileError(
            path, f"its weights do not fit the {built_from} config.json describes ({first[0].strip()}, ...)"
        ) from None

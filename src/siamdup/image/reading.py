"""Image files → grayscale float arrays the image encoder reads: ink high, background 0, at the model's size.

Drawings are dark ink on a light background (Omniglot, scanned signatures); the array is inverted so the
ink is 1 and the background 0, which makes zero padding and the CNN's zero border mean "no ink". A file
with transparency is laid on white first, so a transparent background counts as paper.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

FORMATS = ("PNG", "JPEG")
_HIGH_DEPTH_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")  # more than 8 bits per pixel


class ImageReadError(ValueError):
    """A file that is not a readable PNG/JPEG image: `path` names it."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {message}")


def read_image(source: str | Path | bytes, size: int, name: str | Path | None = None) -> np.ndarray:
    """The image in `source` (a path, or the file's bytes with `name` for messages) as a float32 array
    (size, size) in [0, 1], ink 1 and background 0. `ImageReadError` names the file when it is not a PNG or
    JPEG image, is empty, or cannot be decoded."""
    label = name if name is not None else ("<bytes>" if isinstance(source, bytes) else source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as e:
        raise ImageReadError(label, f"cannot read it ({e.strerror or e})") from None
    if not data:
        raise ImageReadError(label, "the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise ImageReadError(label, f"a {image.format} image; siamdup reads PNG and JPEG")
            image.load()
            gray = _grayscale(image)
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise ImageReadError(label, f"not a readable PNG or JPEG image ({e})") from None
    if gray.size[0] < 1 or gray.size[1] < 1:
        raise ImageReadError(label, "the image has no pixels")
    resized = gray.resize((size, size), Image.Resampling.BOX) if gray.size != (size, size) else gray
    return 1.0 - np.asarray(resized, dtype=np.float32) / 255.0


def _grayscale(image: Image.Image) -> Image.Image:
    """8-bit grayscale ("L") of any PNG/JPEG mode: alpha laid on white, 16-bit and float scaled to 0-255."""
    if image.mode in _HIGH_DEPTH_MODES:
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        if image.mode == "F":
            top = max(float(values.max()), 1.0)
        return Image.fromarray(np.clip(values / top * 255.0, 0, 255).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return image.convert("L")

"""Reading PNG/JPEG files into ink-high grayscale arrays; bad files named in a clear error."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from siamdup.image.reading import ImageReadError, read_image


def drawing(mode: str = "L") -> Image.Image:
    """A 40×40 white page with a black horizontal bar across rows 18-21."""
    image = Image.new("L", (40, 40), 255)
    ImageDraw.Draw(image).rectangle([0, 18, 39, 21], fill=0)
    return image.convert(mode)


def save(image: Image.Image, path, fmt: str = "PNG"):
    image.save(path, format=fmt)
    return path


def test_png_is_inverted_and_resized(tmp_path):
    array = read_image(save(drawing(), tmp_path / "a.png"), size=20)
    assert array.shape == (20, 20) and array.dtype == np.float32
    assert array[9:11].min() == pytest.approx(1.0)  # the bar (rows 18-21 of 40) is ink
    assert array[:8].max() == pytest.approx(0.0) and array[12:].max() == pytest.approx(0.0)


def test_jpeg_and_colour_modes_read_alike(tmp_path):
    png = read_image(save(drawing(), tmp_path / "a.png"), size=40)
    jpeg = read_image(save(drawing("RGB"), tmp_path / "a.jpg", "JPEG"), size=40)
    palette = read_image(save(drawing("P"), tmp_path / "p.png"), size=40)
    assert np.abs(jpeg - png).max() < 0.1  # JPEG is lossy
    np.testing.assert_allclose(palette, png)


def test_transparent_background_counts_as_paper(tmp_path):
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))  # transparent black: paper, not ink
    ImageDraw.Draw(image).rectangle([0, 18, 39, 21], fill=(0, 0, 0, 255))
    array = read_image(save(image, tmp_path / "t.png"), size=40)
    np.testing.assert_allclose(array, read_image(save(drawing(), tmp_path / "a.png"), size=40))


def test_sixteen_bit_png_is_scaled(tmp_path):
    values = np.full((40, 40), 65535, dtype=np.uint16)
    values[18:22] = 0
    array = read_image(save(Image.fromarray(values), tmp_path / "deep.png"), size=40)
    assert array[18:22].min() == pytest.approx(1.0) and array[:18].max() == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"not an image at all", "not a readable PNG or JPEG"), (None, "a GIF image")],
)
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.png"
    if content is None:
        drawing().save(path, format="GIF")
    else:
        path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message) as caught:
        read_image(path, size=28)
    assert str(path) in str(caught.value) and isinstance(caught.value, ValueError)


def test_truncated_png_and_missing_file(tmp_path):
    buffer = io.BytesIO()
    drawing().save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[:60])
    with pytest.raises(ImageReadError, match=r"cut\.png"):
        read_image(path, size=28)
    with pytest.raises(ImageReadError, match="cannot read it"):
        read_image(tmp_path / "absent.png", size=28)

"""The image modality: grayscale drawings (Omniglot characters, rendered signatures) through a small CNN into
the same unit vectors, cosine and τ as text.

`reading` turns PNG/JPEG files into arrays, `encoder` is the CNN, `model.ImageModel` saves and loads it,
`training` trains it on class-disjoint pairs, `omniglot` reads the Omniglot zips and `one_shot` scores the
standard N-way one-shot runs.
"""

from siamdup.image.reading import ImageReadError, read_image

__all__ = ["ImageReadError", "read_image"]

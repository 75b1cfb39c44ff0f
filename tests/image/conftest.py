"""The synthetic Omniglot fixture; the helpers live in omniglot_samples.py, imported by name."""

from omniglot_samples import synthetic_omniglot  # noqa: F401  (a fixture)

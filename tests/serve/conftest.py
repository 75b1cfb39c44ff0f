"""The tiny verifier, for the service's `"verify": true` (its fixtures live in verifier_samples.py)."""

from verifier_samples import random_verifier_dir  # noqa: F401  (fixture)

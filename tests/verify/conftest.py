"""The verifier fixtures; they and the helpers live in tests/verifier_samples.py, imported by name."""

from verifier_samples import random_verifier_dir, trained_verifier_dir, verifier_files  # noqa: F401  (fixtures)

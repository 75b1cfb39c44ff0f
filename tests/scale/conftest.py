"""The Ray fixture; it and the helpers live in scale_samples.py, imported by name."""

from scale_samples import ray_cluster  # noqa: F401  (a fixture)

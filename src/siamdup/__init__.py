"""siamdup: Siamese networks for duplicate-question detection."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("siamdup")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

from siamdup.model.siamese import Siamese

__all__ = ["Siamese", "__version__"]

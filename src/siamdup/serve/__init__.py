"""The HTTP service and its web page."""

from siamdup.serve.app import create_app

__all__ = ["create_app"]

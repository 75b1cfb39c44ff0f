"""The HTTP service and its web page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siamdup.serve.settings import ServiceSettings

if TYPE_CHECKING:
    from siamdup.serve.app import create_app

__all__ = ["ServiceSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # FastAPI is imported only by what serves, not by every CLI command that reads the settings
    if name == "create_app":
        from siamdup.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

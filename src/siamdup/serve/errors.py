"""Error replies that stay small whatever was sent, and 422 for every body that is not JSON.

A validation error never carries the input back (nor pydantic's `ctx`); messages and locations are
cut short and only as many errors are listed as fit in `MAX_REPLY_BYTES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

MAX_REPLY_BYTES = 900
MAX_MESSAGE_CHARS = 200
MAX_LOCATION_CHARS = 40
MAX_LOCATION_PARTS = 6


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reply(status: int, content: dict, headers: Mapping[str, str] | None = None) -> Response:
    # ASCII escapes: a lone surrogate in a key of the request must not break the reply's encoding.
    body = json.dumps(content, ensure_ascii=True)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _short_error(error: dict[str, Any]) -> dict[str, Any]:
    message = str(error.get("msg", "invalid"))
    reason = (error.get("ctx") or {}).get("error")
    if error.get("type") == "json_invalid" and isinstance(reason, str):
        message = f"{message}: {reason}"  # which JSON problem; the rest of ctx may quote the input
    location = [
        part if isinstance(part, int) else _cut(str(part), MAX_LOCATION_CHARS)
        for part in error.get("loc", ())[:MAX_LOCATION_PARTS]
    ]
    return {
        "loc": location,
        "msg": _cut(message, MAX_MESSAGE_CHARS),
        "type": _cut(str(error.get("type", "invalid")), MAX_LOCATION_CHARS),
    }


def small_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first errors that fit the reply budget, and a last line counting the others."""
    shown: list[dict[str, Any]] = []
    size = 0
    for n, error in enumerate(errors):
        short = _short_error(error)
        size += len(json.dumps(short, ensure_ascii=True))
        if shown and size > MAX_REPLY_BYTES - 100:
            left = len(errors) - n
            shown.append({"loc": ["body"], "msg": f"{left} more error(s) not shown", "type": "more_errors"})
            break
        shown.append(short)
    return shown


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    return _reply(422, {"detail": small_validation_errors(list(exc.errors()))})


async def refused(request: Request, exc: HTTPException) -> Response:
    return _reply(exc.status_code, {"detail": _cut(str(exc.detail), MAX_MESSAGE_CHARS * 2)}, exc.headers)


class StrictJSONRequest(Request):
    """A request whose JSON body must be UTF-8 and parse; anything else is a JSON decode error (422)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body.decode("utf-8"))
            except json.JSONDecodeError:
                raise
            except UnicodeDecodeError as e:
                raise json.JSONDecodeError("the body is not valid UTF-8", "", e.start) from None
            except RecursionError:
                raise json.JSONDecodeError("the JSON is nested too deeply", "", 0) from None
            except ValueError as e:  # e.g. a number with more digits than Python converts
                raise json.JSONDecodeError(_cut(str(e), 80), "", 0) from None
        return self._json


class StrictJSONRoute(APIRoute):
    """Routes that read their body through `StrictJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler

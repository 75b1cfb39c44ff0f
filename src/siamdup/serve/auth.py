"""The bearer token that guards the service's writing endpoints (adding questions, enrolling signatures)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


def token_check(token: str | None, disabled: str) -> Callable[..., None]:
    """A dependency that lets a request through only with `Authorization: Bearer <token>`; with no token
    configured every request is refused with `disabled` (what is off, and how to turn it on)."""
    bearer = HTTPBearer(auto_error=False)

    def need_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is None:
            detail = disabled
        elif credentials is None:
            detail = "missing bearer token: send 'Authorization: Bearer <token>'"
        elif not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
            detail = "wrong bearer token"
        else:
            return
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})

    return need_token

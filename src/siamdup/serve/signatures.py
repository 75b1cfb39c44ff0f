"""The signature endpoints (enabled by `siamdup serve --signatures DIR`) and the drawing-pad page.

    POST /signatures/enrol     {"writer": ..., "signatures": [...]} -> stores references (needs the token)
    POST /signatures/verify    {"writer": ..., "signature": {...}} -> score, genuine, τ, per-reference scores
    GET  /signatures/writers/{writer}   a writer's references, to draw them
    GET  /signatures/info      the model, τ and the store's size
    GET  /signatures           the drawing pad

Enrolments are saved (atomically) before the answer is sent, so they survive a restart.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse

from siamdup.serve.auth import token_check
from siamdup.serve.errors import StrictJSONRoute
from siamdup.serve.schemas import ErrorReply
from siamdup.serve.signature_schemas import (
    EnrolRequest,
    EnrolResponse,
    ReferenceOut,
    SignaturesInfo,
    VerifyRequest,
    VerifyResponse,
    WriterReferences,
)
from siamdup.signatures.stored import MAX_WRITER_CHARS, WRITER_PATTERN
from siamdup.signatures.verifier import SignatureVerifier, UnknownWriterError

REASONS = {
    401: "Missing or wrong bearer token, or enrolling is off (no token configured).",
    404: "No signatures are enrolled for this writer.",
    409: "The writer would pass the per-writer limit of references; nothing was enrolled.",
    413: "The request body is over the size limit; it was not read.",
    503: "The store could not be saved (e.g. the disk is full); nothing was enrolled.",
}


WriterInPath = Annotated[
    str,
    Path(min_length=1, max_length=MAX_WRITER_CHARS, pattern=WRITER_PATTERN, description="The writer's id."),
]


def _documented(*codes: int) -> dict[int | str, dict]:
    return {code: {"model": ErrorReply, "description": REASONS[code]} for code in codes}


def _bad_signature(error: ValueError, *where: str | int) -> RequestValidationError:
    """A signature the schema let through but a `Trajectory` refuses: a 422 shaped like every other."""
    return RequestValidationError([{"loc": ("body", *where), "msg": str(error), "type": "value_error"}])


def signature_routes(verifier: SignatureVerifier, token: str | None) -> APIRouter:
    """The endpoints for `verifier`; `token` enables POST /signatures/enrol (None: enrolling is off)."""
    router = APIRouter(prefix="/signatures", tags=["signatures"], route_class=StrictJSONRoute)

    need_token = token_check(token, "enrolling is disabled: start the service with --token or SIAMDUP_TOKEN")

    @router.get("", response_class=HTMLResponse, include_in_schema=False)
    def pad() -> str:
        return (resources.files("siamdup.serve") / "static" / "signatures.html").read_text(encoding="utf-8")

    @router.get("/info")
    def info() -> SignaturesInfo:
        """The signature model, τ and how many writers and references are enrolled."""
        return SignaturesInfo(**verifier.describe(), enrolling_enabled=token is not None)

    @router.post(
        "/enrol",
        dependencies=[Depends(need_token)],
        status_code=status.HTTP_201_CREATED,
        responses=_documented(401, 409, 413, 503),
    )
    def enrol(request: EnrolRequest) -> EnrolResponse:
        """Store reference signatures for a writer, new or known (saved before the answer; no retraining)."""
        signatures = []
        for i, signature in enumerate(request.signatures):
            try:
                signatures.append(signature.trajectory(f"signature {i}"))
            except ValueError as e:  # TrajectoryFormatError included
                raise _bad_signature(e, "signatures", i) from None
        try:
            count = verifier.enrol(request.writer, signatures)
        except ValueError as e:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{e}; nothing was enrolled") from None
        except OSError as e:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the store could not be saved ({e.strerror or e}); nothing was enrolled",
            ) from None
        return EnrolResponse(writer=request.writer, added=len(signatures), references=count)

    @router.post("/verify", responses=_documented(404, 413))
    def verify(request: VerifyRequest) -> VerifyResponse:
        """Score a signature against the writer's references; genuine when the score is above τ."""
        try:
            signature = request.signature.trajectory("signature")
        except ValueError as e:  # TrajectoryFormatError included
            raise _bad_signature(e, "signature") from None
        try:
            result = verifier.verify(request.writer, signature)
        except UnknownWriterError as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
        return VerifyResponse(
            writer=result.writer,
            score=result.score,
            genuine=result.genuine,
            threshold=result.threshold,
            references=result.reference_scores,
        )

    @router.get("/writers/{writer}", responses=_documented(404))
    def references(writer: WriterInPath) -> WriterReferences:
        """A writer's reference signatures as [x, y, pen_down] rows, in enrolment order."""
        try:
            trajectories = verifier.references(writer)
        except UnknownWriterError as e:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
        shown = [
            ReferenceOut(
                index=i,
                source=t.source,
                points=[(float(x), float(y), int(p)) for x, y, p in t.points[:, [0, 1, 3]].tolist()],
            )
            for i, t in enumerate(trajectories)
        ]
        return WriterReferences(writer=writer, references=shown)

    return router

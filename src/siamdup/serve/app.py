"""The HTTP service: score pairs, find the stored duplicates of a question, add questions, and a web page.

    POST /similarity   {"pairs": [{"question1": ..., "question2": ...}]} -> similarity and decision per pair
    POST /duplicates   {"question": ..., "k": 5} -> the k most similar stored questions
    POST /index        {"questions": [{"id": ..., "text": ...}]} -> adds them (needs the bearer token)
    GET  /health       model, τ and index size
    GET  /             the web page; /docs and /openapi.json describe the API

Input is validated before any work (text length, batch size, k); bad input gets a 4xx answer with a
message, never a 500. Questions added through `/index` are journalled to the index directory before the
answer is sent, so they survive a restart.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from importlib import resources
from typing import Annotated

import swagger_ui_bundle
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from siamdup import __version__
from siamdup.index import DuplicateIndex, IndexUpdateError
from siamdup.model.siamese import Siamese

MAX_TEXT_CHARS = 1000
MAX_PAIRS = 256
MAX_NEW_QUESTIONS = 1000
MAX_K = 100


def _encodable(text: str) -> str:
    text.encode("utf-8")  # a lone surrogate ("\ud800") cannot reach the tokenizer: UnicodeError -> 422
    return text


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS),
    AfterValidator(_encodable),
]
QuestionId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_encodable)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairIn(_Strict):
    question1: Text
    question2: Text


class SimilarityRequest(_Strict):
    pairs: list[PairIn] = Field(min_length=1, max_length=MAX_PAIRS)


class PairScore(BaseModel):
    similarity: float
    duplicate: bool


class SimilarityResponse(BaseModel):
    threshold: float
    results: list[PairScore]


class DuplicatesRequest(_Strict):
    question: Text
    k: int = Field(default=5, ge=1, le=MAX_K, strict=True)


class MatchOut(BaseModel):
    id: str
    text: str
    similarity: float
    duplicate: bool


class DuplicatesResponse(BaseModel):
    question: str
    threshold: float
    matches: list[MatchOut]


class NewQuestion(_Strict):
    id: QuestionId | None = Field(default=None, description="Your id for it; a random one if left out.")
    text: Text


class IndexRequest(_Strict):
    questions: list[NewQuestion] = Field(min_length=1, max_length=MAX_NEW_QUESTIONS)


class IndexResponse(BaseModel):
    added: int
    ids: list[str]
    questions: int


def create_app(model: Siamese, index: DuplicateIndex | None = None, token: str | None = None) -> FastAPI:
    """The service for `model`; `index` enables /duplicates, and `token` enables POST /index."""
    app = FastAPI(
        title="siamdup",
        version=__version__,
        description="Duplicate-question detection with a Siamese network: compare two questions, or find "
        "the stored duplicates of a new one.",
        docs_url=None,  # served below from local files: FastAPI's default page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.openapi_version = "3.0.3"  # what the bundled Swagger UI 4 renders; the schema needs nothing newer
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    lock = threading.Lock()  # FAISS must not search while questions are being added
    fingerprint = model.fingerprint()
    bearer = HTTPBearer(auto_error=False)

    def need_index() -> DuplicateIndex:
        if index is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "no index loaded: start with --index DIR"
            )
        return index

    def need_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is None:
            detail = "adding questions is disabled: start the service with --token or SIAMDUP_TOKEN"
        elif credentials is None:
            detail = "missing bearer token: send 'Authorization: Bearer <token>'"
        elif not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
            detail = "wrong bearer token"
        else:
            return
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # The 422 echoes the bad input; ASCII escapes keep a lone surrogate in it from turning into a 500.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return (resources.files("siamdup.serve") / "static" / "index.html").read_text(encoding="utf-8")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="siamdup API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    @app.get("/health")
    def health() -> dict:
        return {
            "status": "ok",
            "version": __version__,
            "model": fingerprint,
            "threshold": model.threshold,
            "index": None if index is None else {"questions": len(index), "search": index.search_kind},
            "adding_enabled": token is not None and index is not None,
        }

    @app.post("/similarity")
    def similarity(request: SimilarityRequest) -> SimilarityResponse:
        """Cosine similarity of each pair and the decision similarity > τ."""
        scores, decisions = model.predict(
            [p.question1 for p in request.pairs], [p.question2 for p in request.pairs]
        )
        results = [
            PairScore(similarity=float(s), duplicate=bool(d)) for s, d in zip(scores, decisions, strict=True)
        ]
        return SimilarityResponse(threshold=model.threshold, results=results)

    @app.post("/duplicates")
    def duplicates(
        request: DuplicatesRequest, store: DuplicateIndex = Depends(need_index)
    ) -> DuplicatesResponse:
        """The k stored questions most similar to the question, best first."""
        vector = model.encode([request.question])
        with lock:
            scores, rows = store.search(vector, request.k)
            matches = store.matches(scores[0], rows[0])
        return DuplicatesResponse(
            question=request.question,
            threshold=model.threshold,
            matches=[MatchOut(**m.__dict__) for m in matches],
        )

    @app.post("/index", dependencies=[Depends(need_token)], status_code=status.HTTP_201_CREATED)
    def add(request: IndexRequest, store: DuplicateIndex = Depends(need_index)) -> IndexResponse:
        """Store new questions (journalled before the answer, so they survive a restart)."""
        ids = [q.id or uuid.uuid4().hex for q in request.questions]
        texts = [q.text for q in request.questions]
        vectors = model.encode(texts)
        with lock:
            try:
                store.add(ids, texts, vectors=vectors, journal=True)
            except IndexUpdateError as e:
                raise HTTPException(status.HTTP_409_CONFLICT, f"{e}; nothing was added") from None
            total = len(store)
        return IndexResponse(added=len(ids), ids=ids, questions=total)

    return app

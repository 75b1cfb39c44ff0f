"""The HTTP service: score pairs, find the stored duplicates of a question, add questions, and a web page.

    POST /similarity   {"pairs": [{"question1": ..., "question2": ...}]} -> similarity and decision per pair
    POST /duplicates   {"question": ..., "k": 5} -> the k most similar stored questions
                       (both: "verify": true has the verifier re-score them and decide, see `verification`)
    POST /index        {"questions": [{"id": ..., "text": ...}]} -> adds them (needs the bearer token)
    GET  /health       model, τ and index size
    GET  /             the web page; /docs and /openapi.json describe the API

Bodies over the size limit are refused (413) before they are read; input is validated before any work
(text length, batch size, k) and bad input gets a short 422 with the reason, never a 500 and never the
input echoed back. Questions added through `/index` are journalled before the answer is sent, so they
survive a restart; `ServedIndex` folds the journal into the saved index in the background.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import swagger_ui_bundle
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from siamdup import __version__
from siamdup.index import DuplicateIndex, IndexUpdateError
from siamdup.model.siamese import Siamese
from siamdup.serve.auth import token_check
from siamdup.serve.batching import QueryBatcher, limit_threads
from siamdup.serve.errors import StrictJSONRoute, invalid_request, refused
from siamdup.serve.limits import BodySizeLimit
from siamdup.serve.schemas import (
    DuplicatesRequest,
    DuplicatesResponse,
    ErrorReply,
    IndexRequest,
    IndexResponse,
    MatchOut,
    PairScore,
    SimilarityRequest,
    SimilarityResponse,
)
from siamdup.serve.settings import ServiceSettings
from siamdup.serve.signatures import signature_routes
from siamdup.serve.store import ServedIndex
from siamdup.serve.verification import ServedVerifier, verifier_for
from siamdup.signatures.verifier import SignatureVerifier

if TYPE_CHECKING:
    from siamdup.verify.scoring import PairScorer


def _documented(*codes: int) -> dict[int | str, dict]:
    reasons = {
        400: '"verify": true, but the service has no verifier (start it with --verifier DIR).',
        401: "Missing or wrong bearer token, or adding is off (no token configured).",
        409: "An id is already stored or repeated; nothing was added.",
        413: "The request body is over the size limit; it was not read.",
        503: "No index is loaded (start the service with --index DIR).",
    }
    return {code: {"model": ErrorReply, "description": reasons[code]} for code in codes}


def create_app(
    model: Siamese,
    index: DuplicateIndex | None = None,
    token: str | None = None,
    settings: ServiceSettings | None = None,
    signatures: SignatureVerifier | None = None,
    verifier: PairScorer | None = None,
) -> FastAPI:
    """The service for `model`; `index` enables /duplicates, and `token` enables POST /index.

    `verifier` (see `siamdup.verify.load_verifier`) enables `"verify": true` on /similarity and /duplicates.

    `signatures` enables the /signatures endpoints and page (`token` then enables enrolling too).

    `settings`: the body size limit, when added questions are folded into the saved index, and the
    threads and batching of queries.
    """
    settings = settings or ServiceSettings()
    store = None if index is None else ServedIndex(index, settings)
    batcher = (
        None
        if store is None
        else QueryBatcher(model, store, batch=settings.query_batch, threads=settings.query_threads)
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if store is not None and batcher is not None:
            store.start()
            await run_in_threadpool(batcher.warm_up)
        # What start-up made (modules, model, index) lives as long as the service: out of the collector's
        # sight, a full collection no longer pauses every thread to walk it again.
        gc.freeze()
        yield
        if store is not None and batcher is not None:
            await run_in_threadpool(batcher.close)
            await run_in_threadpool(store.close)

    app = FastAPI(
        title="siamdup",
        version=__version__,
        description="Duplicate-question detection with a Siamese network: compare two questions, or find "
        "the stored duplicates of a new one.",
        docs_url=None,  # served below from local files: FastAPI's default page loads Swagger UI from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.openapi_version = "3.0.3"  # what the bundled Swagger UI 4 renders; the schema needs nothing newer
    app.router.route_class = StrictJSONRoute
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    # Starlette types handlers as taking any Exception; each of these is registered for its own type.
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, refused)  # type: ignore[arg-type]
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    app.state.store = store
    app.state.batcher = batcher
    verifying = (
        None
        if verifier is None
        else ServedVerifier(verifier, settings.max_verified_pairs, settings.query_threads)
    )
    app.state.verifier = verifying
    fingerprint = model.fingerprint()

    def no_index() -> HTTPException:
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no index loaded: start with --index DIR")

    def need_index() -> ServedIndex:
        if store is None:
            raise no_index()
        return store

    async def need_batcher() -> QueryBatcher:  # async: FastAPI would run a plain function on a thread
        if batcher is None:
            raise no_index()
        return batcher

    def encode(texts: list[str]) -> np.ndarray:
        """Encode on the calling request thread with the query thread count."""
        limit_threads(settings.query_threads)
        return model.encode(texts)

    need_token = token_check(
        token, "adding questions is disabled: start the service with --token or SIAMDUP_TOKEN"
    )

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
            "index": None if store is None else store.describe(),
            "queries": None if batcher is None else batcher.describe(),
            "verifier": None if verifying is None else verifying.describe(),
            "adding_enabled": token is not None and store is not None,
            "max_body_bytes": settings.max_body_bytes,
        }

    @app.post("/similarity", responses=_documented(400, 413), response_model_exclude_none=True)
    def similarity(request: SimilarityRequest) -> SimilarityResponse:
        """Cosine similarity of each pair and the decision similarity > τ; with verify, also the verifier's
        probability, and its decision."""
        checker = verifier_for(request.verify, verifying, len(request.pairs), "pairs")
        limit_threads(settings.query_threads)
        q1s, q2s = [p.question1 for p in request.pairs], [p.question2 for p in request.pairs]
        scores, decisions = model.predict(q1s, q2s)
        if checker is not None:
            results = checker.pair_scores(q1s, q2s, scores, decisions)
        else:
            results = [
                PairScore(similarity=float(s), duplicate=bool(d))
                for s, d in zip(scores, decisions, strict=True)
            ]
        threshold = None if checker is None else checker.threshold
        return SimilarityResponse(threshold=model.threshold, verifier_threshold=threshold, results=results)

    @app.post("/duplicates", responses=_documented(400, 413, 503), response_model_exclude_none=True)
    async def duplicates(
        request: DuplicatesRequest, queries: QueryBatcher = Depends(need_batcher)
    ) -> DuplicatesResponse:
        """The k stored questions most similar to the question, best first; with verify, re-scored by the
        verifier, which decides, highest probability first."""
        checker = verifier_for(request.verify, verifying, request.k, "k")
        found = await queries.duplicates(request.question, request.k)
        if checker is None:
            matches = [MatchOut(**m.__dict__) for m in found]
        else:  # on a request thread, after the batched search: no lock held, no other query waiting
            matches = await run_in_threadpool(checker.matches, request.question, found)
        return DuplicatesResponse(
            question=request.question,
            threshold=model.threshold,
            verifier_threshold=None if checker is None else checker.threshold,
            matches=matches,
        )

    @app.post(
        "/index",
        dependencies=[Depends(need_token)],
        status_code=status.HTTP_201_CREATED,
        responses=_documented(401, 409, 413, 503),
    )
    def add(request: IndexRequest, served: ServedIndex = Depends(need_index)) -> IndexResponse:
        """Store new questions (journalled before the answer, so they survive a restart)."""
        ids = [q.id or uuid.uuid4().hex for q in request.questions]
        texts = [q.text for q in request.questions]
        try:
            total = served.add(ids, texts, encode(texts))
        except IndexUpdateError as e:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{e}; nothing was added") from None
        return IndexResponse(added=len(ids), ids=ids, questions=total)

    if signatures is not None:
        app.include_router(signature_routes(signatures, token))
    return app

"""`siamdup serve`: the HTTP service and web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from siamdup.cli.common import ModelOption, RuntimeOption, app, err, fail, load_index, load_model
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_folder
from siamdup.cli.verify_options import VerifierOption, VerifierRuntimeOption, load_verifier_or_fail
from siamdup.index import DuplicateIndex
from siamdup.serve.settings import ServiceSettings

_DEFAULTS = ServiceSettings()


def _help(setting: str) -> str:
    return ServiceSettings.model_fields[setting].description or ""


@app.command("serve")
@writes_to("index", "--index", "index", create=True)  # for the server's whole life: one writer per index
@writes_to("signatures", "--signatures", "signature store", create=True)
def serve_command(
    model: ModelOption = None,
    runtime: RuntimeOption = "auto",
    index: Annotated[
        Path | None,
        typer.Option(
            "--index",
            "-i",
            help="Index directory for /duplicates and /index; created empty if it does not exist.",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="SIAMDUP_TOKEN", help="Bearer token that POST /index requires; without it adding is off."
        ),
    ] = None,
    signatures: Annotated[
        Path | None,
        typer.Option(
            help="Signature store for the /signatures endpoints and drawing pad; created empty if it does "
            "not exist.",
        ),
    ] = None,
    signature_model: Annotated[
        Path | None,
        typer.Option(
            help="Signature model directory; default: the one the store records, else the shipped one."
        ),
    ] = None,
    verifier: VerifierOption = None,
    verifier_runtime: VerifierRuntimeOption = "auto",
    max_body_bytes: Annotated[int, typer.Option(help=_help("max_body_bytes"))] = _DEFAULTS.max_body_bytes,
    max_verified_pairs: Annotated[
        int, typer.Option(help=_help("max_verified_pairs"))
    ] = _DEFAULTS.max_verified_pairs,
    fold_every_adds: Annotated[int, typer.Option(help=_help("fold_every_adds"))] = _DEFAULTS.fold_every_adds,
    fold_every_seconds: Annotated[
        float, typer.Option(help=_help("fold_every_seconds"))
    ] = _DEFAULTS.fold_every_seconds,
    query_batch: Annotated[int, typer.Option(help=_help("query_batch"))] = _DEFAULTS.query_batch,
    query_threads: Annotated[int, typer.Option(help=_help("query_threads"))] = _DEFAULTS.query_threads,
    build_threads: Annotated[int, typer.Option(help=_help("build_threads"))] = _DEFAULTS.build_threads,
) -> None:
    """Serve the model over HTTP, with a web page at / and the API documented at /docs.

    With --verifier DIR, requests may ask "verify": true: the verifier re-scores their pairs and decides.

    Example: SIAMDUP_TOKEN=secret siamdup serve --index index/ --port 8000
    """
    import uvicorn

    from siamdup.cli.signature_enrol_commands import open_verifier
    from siamdup.serve import create_app

    try:
        settings = ServiceSettings(
            max_body_bytes=max_body_bytes,
            max_verified_pairs=max_verified_pairs,
            fold_every_adds=fold_every_adds,
            fold_every_seconds=fold_every_seconds,
            query_batch=query_batch,
            query_threads=query_threads,
            build_threads=build_threads,
        )
    except ValidationError as e:
        problems = "; ".join(f"--{str(p['loc'][0]).replace('_', '-')}: {p['msg']}" for p in e.errors())
        raise fail(problems) from None
    if index is not None and not (index / "manifest.json").exists():
        # A new index is created there: the folder must be free for it.
        check_output_folder(index, "--index", holds="index", marker="manifest.json")
    signature_verifier = open_verifier(signatures, signature_model) if signatures is not None else None
    pair_verifier = None
    if verifier is not None:
        pair_verifier = load_verifier_or_fail(verifier, verifier_runtime, settings.query_threads)
    siamese = load_model(model, threads=settings.query_threads)
    store = None
    if index is not None:
        if (index / "manifest.json").exists():
            store = load_index(index, siamese)
        else:
            store = DuplicateIndex(siamese)
            store.save(index)
            err.print(f"created an empty index at {index}")
    err.print(
        f"serving on http://{host}:{port}/  (API docs: /docs; adding questions {'on' if token else 'off'})"
    )
    if pair_verifier is not None:
        err.print(f'"verify": true on: verifier {verifier} (threshold {pair_verifier.threshold:.3f})')
    if signature_verifier is not None:
        writers = len(signature_verifier.writers())
        err.print(f"signature pad: http://{host}:{port}/signatures  ({writers:,} writers enrolled)")
    app_ = create_app(siamese, store, token, settings, signatures=signature_verifier, verifier=pair_verifier)
    uvicorn.run(app_, host=host, port=port, log_level="warning")

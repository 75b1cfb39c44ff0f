"""`siamdup serve`: the HTTP service and web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from siamdup.cli.common import ModelOption, app, err, fail, load_index, load_model, writes_to
from siamdup.index import DuplicateIndex
from siamdup.storage import LOCK_FILE


@app.command("serve")
@writes_to("index", create=True)  # for the server's whole life: one writer per index
def serve_command(
    model: ModelOption = None,
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
) -> None:
    """Serve the model over HTTP, with a web page at / and the API documented at /docs.

    Example: SIAMDUP_TOKEN=secret siamdup serve --index index/ --port 8000
    """
    import uvicorn

    from siamdup.serve import create_app

    siamese = load_model(model)
    store = None
    if index is not None:
        if (index / "manifest.json").exists():
            store = load_index(index, siamese)
        elif any(p.name != LOCK_FILE for p in index.iterdir()):
            raise fail(f"{index} exists but is not a siamdup index")
        else:
            store = DuplicateIndex(siamese)
            store.save(index)
            err.print(f"created an empty index at {index}")
    err.print(
        f"serving on http://{host}:{port}/  (API docs: /docs; adding questions {'on' if token else 'off'})"
    )
    uvicorn.run(create_app(siamese, store, token), host=host, port=port, log_level="warning")

"""The ``segments`` console script: the training commands plus ``segments serve``.

``serve`` lives with the service so that ``training`` never imports ``service``; this module
composes the two (``service`` may import ``training``, never the reverse). Only the console
script imports it: the serving process execs uvicorn and holds none of the CLI's imports.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from training.cli import app as training_app
from training.cli_support import fail

__all__ = ["app", "main", "serve"]

app = typer.Typer(
    help="Customer segmentation: train a model on a customer file, then serve or apply it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(training_app)  # unnamed: its commands sit at the top level beside `serve`


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    models_dir: Annotated[
        Path | None, typer.Option(help="Artifacts folder (default: $SEG_MODELS_DIR or models).")
    ] = None,
    model_version: Annotated[
        str | None, typer.Option(help="Version to serve (default: $SEG_MODEL_VERSION or LATEST).")
    ] = None,
) -> None:
    """Serve the scoring API with uvicorn (OpenAPI page at /docs)."""
    import os
    import sys

    from service.config import SettingsError, load_settings
    from service.main import uvicorn_argv

    if models_dir is not None:
        os.environ["SEG_MODELS_DIR"] = str(models_dir)
    if model_version is not None:
        os.environ["SEG_MODEL_VERSION"] = model_version
    try:
        load_settings()  # fail here, in one line, rather than in every worker
    except SettingsError as exc:
        fail(str(exc))
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics there and GET /metrics adds them up.
        from service.metrics import fresh_multiprocess_dir

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = fresh_multiprocess_dir()
    sys.stdout.flush()
    # Become the server: signals reach uvicorn directly (PID 1 in a container) and the
    # serving process holds the service's imports only, none of the CLI's.
    os.execv(sys.executable, [sys.executable, *uvicorn_argv(host, port, workers)])


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app()

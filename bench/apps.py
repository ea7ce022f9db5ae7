"""The servers bench/serve.py compares our /assign with (uvicorn --factory targets).

- ``echo_app``: a bare FastAPI endpoint that echoes the JSON body (the baseline), as
  ``async def`` (``POST /echo``) and as a threadpool ``def`` (``POST /echo-sync``); the
  same with a typed (Pydantic) body: ``POST /echo-typed``, ``POST /echo-typed-sync``.
- ``pandas_app``: the common approach, a DataFrame and ``Pipeline.predict`` per request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI
from pydantic import BaseModel

from training.artifact import load_artifact


class Customer(BaseModel):
    customer_id: str
    annual_income: float | None = None
    spending_score: float | None = None


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict[str, Any] = Body()) -> dict[str, Any]:
        return body

    @app.post("/echo-sync")
    def echo_sync(body: dict[str, Any] = Body()) -> dict[str, Any]:
        return body

    @app.post("/echo-typed")
    async def echo_typed(customer: Customer) -> Customer:
        return customer

    @app.post("/echo-typed-sync")
    def echo_typed_sync(customer: Customer) -> Customer:
        return customer

    return app


def pandas_app() -> FastAPI:
    import pandas as pd

    artifact = load_artifact(Path(os.environ["SEG_MODELS_DIR"]))
    pipeline, version = artifact.pipeline, artifact.version
    names = [s.name for s in artifact.profile.segments]
    app = FastAPI()

    @app.post("/assign")
    def assign(customer: Customer) -> dict[str, Any]:
        frame = pd.DataFrame([customer.model_dump(exclude={"customer_id"})], dtype=float)
        segment = int(pipeline.predict(frame)[0])
        return {
            "customer_id": customer.customer_id,
            "segment_id": segment,
            "segment_name": names[segment],
            "model_version": version,
        }

    return app

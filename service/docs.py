"""The OpenAPI document and the Swagger UI page, served without any CDN.

FastAPI's own ``/docs`` loads Swagger UI from a CDN: behind a firewall it is a blank page.
Here the page's script, style sheet and icon come from the installed ``fastapi-offline``
package (Swagger UI 5, which reads OpenAPI 3.1). These are ordinary routes (left out of the
schema), so the metrics count them under their own route templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from service.errors import NotFoundError

__all__ = ["ASSETS", "DOCS_URL", "OPENAPI_URL", "router"]

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
# The only files served: a fixed list, so no path can reach anything else.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
_STATIC = Path(fastapi_offline.__file__).parent / "static"
_CACHE = "public, max-age=86400"

router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_URL)
async def read_openapi(request: Request) -> JSONResponse:
    """The OpenAPI document of the model being served."""
    app: FastAPI = request.app
    schema: dict[str, Any] = app.openapi()
    return JSONResponse(schema)


@router.get(DOCS_URL)
async def read_docs(request: Request) -> HTMLResponse:
    """Swagger UI, with its assets from this server."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{OPENAPI_URL}",
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
    )


@router.get(OAUTH2_REDIRECT_URL)
async def read_oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(ASSETS_URL + "/{name}")
async def read_docs_asset(name: str) -> FileResponse:
    """One of the Swagger UI files of the installed package."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundError(f"no docs asset {name!r}")
    return FileResponse(_STATIC / name, media_type=media_type, headers={"cache-control": _CACHE})

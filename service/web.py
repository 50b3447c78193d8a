"""The playground page (``/``) and the API docs (``/docs``, ``/redoc``), from the app's own
files: nothing is loaded from another host.

The page and the vendored Swagger UI / ReDoc bundles are built from ``web/`` by ``make web``
into ``LOSSCORE_WEB_DIR`` (default: ``service/static``, shipped in the package and the image);
they are served under ``/static``. The page uses only the public API, through the TypeScript
client generated from the committed OpenAPI document. Without a build, these routes answer a
404 error saying how to build it; the API itself does not depend on them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from service.errors import ApiError

__all__ = ["install_web"]

PAGE = Path("playground") / "index.html"

# The page and the docs run only the app's own scripts and talk only to the app.
# (Swagger UI and ReDoc set inline styles; ReDoc runs its search in a blob: worker.)
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>losscore API: Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="static/vendor/swagger-ui/swagger-ui.css">
</head><body>
<main id="swagger-ui" data-spec="openapi.json"></main>
<script src="static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="static/docs/swagger-init.js"></script>
</body></html>
"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>losscore API: ReDoc</title>
<link rel="icon" href="data:,">
</head><body>
<redoc spec-url="openapi.json" hide-download-button="false"></redoc>
<script src="static/vendor/redoc/redoc.standalone.js"></script>
</body></html>
"""


def _not_built(web_dir: Path) -> ApiError:
    return ApiError(
        404,
        "not_built",
        f"the playground and the offline docs are not built in {web_dir} "
        "(run `make web`, which needs Node.js and npm, or set LOSSCORE_WEB_DIR)",
    )


def _router(web_dir: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    built = (web_dir / PAGE).is_file()

    def _html(body: str) -> Response:
        if not built:
            raise _not_built(web_dir)
        return HTMLResponse(body, headers=_HEADERS)

    @router.get("/")
    async def playground() -> Response:
        if not built:
            raise _not_built(web_dir)
        return FileResponse(web_dir / PAGE, media_type="text/html", headers=_HEADERS)

    @router.get("/docs")
    async def swagger_ui() -> Response:
        return _html(_SWAGGER)

    @router.get("/redoc")
    async def redoc() -> Response:
        return _html(_REDOC)

    return router


def install_web(app: FastAPI, web_dir: Path) -> None:
    """Add ``/``, ``/docs``, ``/redoc`` and the ``/static`` files (when built) to *app*."""
    app.include_router(_router(web_dir))
    if (web_dir / PAGE).is_file():
        app.mount("/static", StaticFiles(directory=web_dir), name="static")

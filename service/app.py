"""The application factory.

``create_app(settings)`` builds a FastAPI app from a list of routers (one module
per resource in :mod:`service.routers`); later resources (training, models) add
their router to :func:`default_routers`.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

import losscore
import losscore.train
from service.auth import Authenticator
from service.deps import gates
from service.errors import install_error_handlers
from service.httpsem import HeadAsGet
from service.memory import tune_malloc
from service.metrics import Metrics, MetricsMiddleware
from service.openapi import build_openapi
from service.requestlog import RequestLogMiddleware
from service.settings import Settings
from service.web import install_web

__all__ = ["create_app", "default_routers"]

log = logging.getLogger("service")

DESCRIPTION = """\
Losses with exact gradients and Hessians, norms with proximal operators, loss curves
and plots, over HTTP. Every 4xx is `{"error": {status, code, message, details}}` where
each detail names the field, the array index where one applies, and the reason.
Numbers that overflow are returned as the strings `"Infinity"`/`"-Infinity"`.
"""


def default_routers() -> list[APIRouter]:
    """The routers of every resource, in the order they appear in the docs."""
    from service.routers import evaluate, health, losses, plots

    routers = [losses.router, evaluate.router]
    try:
        from service.routers import norms
    except ImportError as exc:  # losscore.norms not available in this checkout
        log.warning("norm routes disabled: %s", exc)
    else:
        routers.append(norms.router)
    from service.routers import inference, models, paths, train

    routers += [plots.router, train.router, paths.router, models.router, inference.router]
    routers.append(health.router)
    return routers


def _seed_numba_cache(seed: Path | None) -> int:
    """Copy precompiled numba cache files from ``seed`` into ``NUMBA_CACHE_DIR`` (files
    missing there only; each written under a temporary name and renamed, so that several
    workers seeding at once never expose a half-written file). Returns the files copied."""
    target = os.environ.get("NUMBA_CACHE_DIR")
    if seed is None or not target or not seed.is_dir():
        return 0
    copied = 0
    for src in seed.rglob("*"):
        if not src.is_file():
            continue
        dst = Path(target) / src.relative_to(seed)
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
        copied += 1
    return copied


def _warm_up(seed: Path | None) -> None:
    copied = 0
    try:
        copied = _seed_numba_cache(seed)
    except OSError:  # e.g. an unwritable NUMBA_CACHE_DIR: compile instead of loading
        log.exception("could not seed the numba cache from %s", seed)
    try:
        started = time.perf_counter()
        losscore.warm_up()
        # uvicorn's logger: its handler prints INFO (the "service" logger has none configured)
        logging.getLogger("uvicorn.error").info(
            "compiled kernels (evaluate and training) ready in %.2f s (%d cache files seeded)",
            time.perf_counter() - started,
            copied,
        )
    except Exception:  # pragma: no cover - a failed warm-up only costs the first fit time
        log.exception("solver warm-up failed")
    freeze_start_up_objects()  # the compiled kernels' objects too


def freeze_start_up_objects() -> None:
    """Move every object alive now (modules, the app, the catalog) out of the garbage
    collector's reach (``gc.freeze``): a full collection then walks only what requests
    create. Measured in-process: full collections during JSON fits paused every thread,
    the event loop too, for ~50 ms each (160,000 start-up objects); after the freeze 0.2 ms."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: compile the training kernels off the event loop (the first fit needing
    them would otherwise wait for the compiler; /healthz answers meanwhile); freeze the
    start-up objects out of the garbage collector's full passes."""
    settings = app.state.settings
    if settings.warm_up:
        threading.Thread(
            target=_warm_up, args=(settings.numba_cache_seed,), name="losscore-warm-up", daemon=True
        ).start()
    freeze_start_up_objects()
    yield


def create_app(
    settings: Settings | None = None, routers: Sequence[APIRouter] | None = None
) -> FastAPI:
    """A configured app: routers, error handlers, metrics, OpenAPI."""
    settings = settings or Settings()
    if settings.tune_malloc and not tune_malloc():
        log.info("malloc tuning not applied (not glibc): large requests pay page faults")
    app = FastAPI(
        title="losscore",
        version=losscore.__version__,
        description=DESCRIPTION,
        openapi_tags=None,
        lifespan=_lifespan,
        docs_url=None,  # served from the app's own files by service.web
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.cpu_gate, app.state.fit_gate = gates(settings)
    app.state.auth = Authenticator(settings.api_keys, settings.evaluate_open)
    for router in default_routers() if routers is None else routers:
        app.include_router(router)
    install_web(app, settings.web_dir)
    install_error_handlers(app)
    app.add_middleware(HeadAsGet)  # innermost: metrics and logs still see HEAD
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestLogMiddleware, log_requests=settings.request_log)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=[
                "Content-Type",
                "X-API-Key",
                "Authorization",
                "X-Request-ID",
                "X-Losscore-Request",
            ],
            expose_headers=["X-Request-ID", "Retry-After", "X-Losscore-Result"],
            max_age=600,
        )

    def openapi() -> dict[str, Any]:
        return build_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
    return app

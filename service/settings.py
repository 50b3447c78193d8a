"""Service configuration from the environment (pydantic-settings).

Server knobs use plain names (``HOST``, ``PORT``, ``WORKERS``, ``LOG_LEVEL``);
service limits use the ``LOSSCORE_`` prefix. Every setting is documented in the
README's settings table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.apikeys import ApiKey

__all__ = ["Settings"]

MiB = 1024 * 1024


class Settings(BaseSettings):
    """All settings of the HTTP service, read from environment variables."""

    model_config = SettingsConfigDict(env_prefix="LOSSCORE_", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "LOSSCORE_HOST"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=AliasChoices("PORT", "LOSSCORE_PORT"))
    workers: int = Field(1, ge=1, validation_alias=AliasChoices("WORKERS", "LOSSCORE_WORKERS"))
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = Field(
        "info", validation_alias=AliasChoices("LOG_LEVEL", "LOSSCORE_LOG_LEVEL")
    )

    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text or as one JSON object per line."
    )
    request_log: bool = Field(True, description="One log line per request (INFO).")

    max_body_bytes: int = Field(64 * MiB, ge=1, description="Largest accepted request body.")
    max_array_elements: int = Field(
        2_000_000, ge=1, description="Most elements in any one input array."
    )
    max_request_elements: int = Field(
        6_000_000, ge=1, description="Most elements over all input arrays of one request."
    )
    max_norm_cost: float = Field(
        2e8,
        gt=0,
        description="Most operations one norm evaluation may take (a nuclear norm is an SVD, "
        "m·n·min(m, n)); beyond, 422 before any work.",
    )
    max_curve_points: int = Field(10_001, ge=2, description="Largest `num` for curves and plots.")
    max_compare_losses: int = Field(
        16,
        ge=1,
        le=32,
        description="Most losses in one compare request (at most 32, the schema's ceiling).",
    )
    max_cpu_jobs: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="CPU-bound requests running at once (threads); others wait their turn.",
    )
    max_cpu_queue: int = Field(
        default_factory=lambda: 4 * max(1, os.cpu_count() or 1),
        ge=0,
        description="CPU-bound requests that may wait for a thread; beyond, 503 at once.",
    )
    inline_max_bytes: int = Field(
        65536,
        ge=0,
        description="Bodies up to this size are computed on the event loop (no thread hop).",
    )
    tune_malloc: bool = Field(
        True, description="Keep freed memory for reuse (glibc): fewer page faults per request."
    )
    data_dir: Path = Field(Path("data"), description="Directory for stored models (training).")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the model store; unset: SQLite (WAL) at <data_dir>/models.db.",
    )
    database_pool_size: int = Field(
        5, ge=1, description="Connections each worker process keeps open to a server database."
    )
    database_max_overflow: int = Field(
        10, ge=0, description="Connections a worker may open beyond the pool under load."
    )
    train_max_elements: int = Field(
        2_000_000, ge=1, description="Most feature values n·d in one training request (413)."
    )
    train_max_alphas: int = Field(
        100,
        ge=1,
        le=500,
        description="Most α values of a regularisation path or a cross-validation grid (422).",
    )
    train_max_iter: int = Field(
        100_000, ge=1, description="Largest `max_iter` a training request may ask for (422)."
    )
    train_max_seconds: float = Field(
        60.0,
        gt=0.0,
        description="Wall-time limit of every fit: the default `time_limit_s` and its cap (422).",
    )
    train_max_jobs: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2),
        ge=1,
        description="Fits running at once (worker threads); further fits wait their turn.",
    )
    train_max_queue: int = Field(
        8, ge=0, description="Fits that may wait for a fit slot; beyond, 503 at once."
    )
    warm_up: bool = Field(
        True,
        description="Compile the training solvers' kernels in a background thread at start-up.",
    )
    web_dir: Path = Field(
        Path(__file__).resolve().parent / "static",
        description="The built playground page and offline API docs (`make web`); "
        "default: the package's `service/static`.",
    )
    numba_cache_seed: Path | None = Field(
        None,
        description="Directory of numba cache files compiled at image build; copied into "
        "NUMBA_CACHE_DIR before the warm-up (a read-only image cannot serve as the cache).",
    )
    max_connections: int = Field(
        512, ge=1, description="Open connections beyond which a new one gets 503 and is closed."
    )
    max_header_bytes: int = Field(
        64 * 1024, ge=1024, description="Largest request line plus headers (431 beyond)."
    )
    max_headers: int = Field(100, ge=8, description="Most request headers (431 beyond).")
    header_timeout_s: float = Field(
        10.0, gt=0, description="Time for a request's line and headers to arrive (408 after)."
    )
    body_idle_timeout_s: float = Field(
        15.0, gt=0, description="Longest pause between two pieces of a request body (408)."
    )
    body_timeout_s: float = Field(
        120.0, gt=0, description="Longest time for a whole request body to arrive (408)."
    )
    keep_alive_s: int = Field(
        5, ge=1, description="Idle time after which a kept-alive connection is closed."
    )
    shutdown_grace_s: int = Field(
        8,
        ge=1,
        description="On SIGTERM, time for requests in flight to finish; two seconds before its "
        "end (at its half when it is under 4 s), fits still running are cancelled and answer "
        "503 (keep it below the orchestrator's stop timeout: docker's is 10 s).",
    )
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description="JSON list of API keys ({name, sha256, scopes, per_minute}); empty: access "
        "control off. `python -m service.keys new NAME SCOPE...` makes one.",
    )
    evaluate_open: bool = Field(
        True, description="With API keys configured, the evaluate routes still need no key."
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins allowed to call the API from a browser (CORS); "
        "empty: CORS off.",
    )
    dataset_roots: str = Field(
        "",
        description="Comma-separated directories under which training requests may name "
        "datasets (`dataset.path`); empty: dataset references refused (403).",
    )
    dask_scheduler: str = Field(
        "",
        description="Address of the Dask scheduler that reads and fits datasets "
        "(`tcp://host:8786`); empty: Dask's local scheduler in the service process.",
    )
    dask_connect_timeout_s: float = Field(
        5.0, gt=0, description="How long to wait for the Dask scheduler before a 503."
    )
    proxy_headers: bool = Field(
        True, description="Trust X-Forwarded-For/-Proto from forwarded_allow_ips."
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1", description="Comma-separated proxy addresses trusted for forwarded headers."
    )

"""``python -m service``: serve the app with uvicorn, configured from the environment.

Runs in the foreground in the current process (exec-friendly: no shell, signals
reach uvicorn directly, so SIGTERM performs a graceful shutdown).
"""

from __future__ import annotations

import resource

import uvicorn

from service.protocol import GuardedHttpToolsProtocol
from service.requestlog import log_config
from service.settings import Settings


def _raise_file_limit(wanted: int) -> None:
    """Lift the soft limit of open files towards *wanted* (at most the hard limit), so that
    LOSSCORE_MAX_CONNECTIONS, not the process's descriptors, is what refuses connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main() -> None:
    """Start uvicorn with the settings read from the environment."""
    settings = Settings()
    _raise_file_limit(4 * settings.max_connections + 256)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,  # service.requestlog writes one line per request, with its id
        log_config=log_config(settings),
        http=GuardedHttpToolsProtocol,
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=settings.shutdown_grace_s,
    )


if __name__ == "__main__":
    main()

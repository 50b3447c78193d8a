"""``python -m service``: serve the app with uvicorn, configured from the environment.

Runs in the foreground in the current process (exec-friendly: no shell, signals
reach uvicorn directly, so SIGTERM performs a graceful shutdown).
"""

from __future__ import annotations

import uvicorn

from service.settings import Settings


def main() -> None:
    """Start uvicorn with the settings read from the environment."""
    settings = Settings()
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=settings.log_level in ("debug", "trace"),
    )


if __name__ == "__main__":
    main()

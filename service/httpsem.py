"""HTTP method semantics the router does not give by itself (RFC 9110).

* **HEAD** wherever GET is served (§9.3.2): :class:`HeadAsGet` routes a HEAD request as a GET
  and sends the GET response's status and headers (``content-length`` included) without
  its body.
* **Allow** on a 405 lists every method the resource supports (§15.5.6):
  :func:`allowed_methods` collects them over all routes whose path matches, not only the
  first (``/v1/models/{id}`` has one route for GET and another for DELETE).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet", "allowed_methods"]


class HeadAsGet:
    """Pure ASGI middleware: HEAD is served as GET, with the body dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the rest of a streamed body: not sent
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_head)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route fully matches at the request's path (HEAD with GET): routes
    are asked, not inspected, so included routers and their prefixes count."""
    routes: list[BaseRoute] = request.app.router.routes
    methods = {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)

"""Request bodies are limited before they are read, and read only once the credential is known.

One ASGI middleware in front of every route (SPEC section 7): a declared `Content-Length` over
the route's limit is a 413 before a byte is read; a body sent to a keyed route without a valid key
is a 401 before a byte is read; then the bytes are counted as they stream in, so a missing or
lying `Content-Length` (chunked uploads) is cut off at the limit too.
"""

from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sightline.problems import PayloadTooLarge

Authenticate = Callable[[Request], Awaitable[object]]


class BodyTooLarge(PayloadTooLarge, HTTPException):
    """A 413 problem; also an HTTPException because FastAPI turns any other exception raised
    while it reads a body into a 400."""

    def __init__(self, limit: int):
        HTTPException.__init__(self, 413, f"The body exceeds {limit} bytes")
        self.members = {}


class BodyGate:
    def __init__(self, app: ASGIApp, *, default_limit: int, limits: Mapping[str, int],
                 keyed_prefixes: tuple[str, ...], keyless_prefixes: tuple[str, ...],
                 authenticate: Authenticate):
        self.app = app
        self.default_limit = default_limit
        self.limits = limits
        self.keyed_prefixes = keyed_prefixes
        self.keyless_prefixes = keyless_prefixes
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limits.get(path, self.default_limit)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit)
        has_body = (declared.isdigit() and int(declared) > 0) or b"transfer-encoding" in headers
        if has_body and self.needs_key(path):
            await self.authenticate(Request(scope))
        await self.app(scope, counted(receive, limit), send)

    def needs_key(self, path: str) -> bool:
        return path.startswith(self.keyed_prefixes) and not path.startswith(self.keyless_prefixes)


def counted(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_counted

"""The request gate, in front of every route (SPEC section 7), before anything is parsed.

- A path or query parameter holding a NUL character is a 400.
- A declared `Content-Length` over the route's limit is a 413 before a byte is read; a body sent
  to a keyed route without a valid key is a 401 before a byte is read.
- Body bytes are counted as they stream in, so a missing or lying `Content-Length` (chunked
  uploads) is cut off at the limit too, and a NUL character in the body (raw, or a JSON
  `\\u0000` escape) is a 422: no text field can hold one (PostgreSQL text cannot either).
"""

import re
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sightline.problems import BodyInvalid, InvalidParameter, PayloadTooLarge

Authenticate = Callable[[Request], Awaitable[object]]


class BodyTooLarge(PayloadTooLarge, HTTPException):
    """A 413 problem; also an HTTPException because FastAPI turns any other exception raised
    while it reads a body into a 400."""

    def __init__(self, limit: int):
        HTTPException.__init__(self, 413, f"The body exceeds {limit} bytes")
        self.members = {}


class NulInBody(BodyInvalid, HTTPException):
    """A 422 problem, raised while a route reads its body (see BodyTooLarge)."""

    def __init__(self) -> None:
        HTTPException.__init__(self, 422, "The request body does not match the schema")
        self.members = {"errors": [{"field": "body", "location": "body",
                                    "message": "text must not contain NUL characters"}]}


# `\u0000` not itself escaped (preceded by an even number of backslashes), or a raw NUL byte
NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")
NUL_TAIL = 16  # bytes of the previous chunk searched again, for escapes split across chunks


class RequestGate:
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
        refuse_nul_parameters(path, scope.get("query_string", b""))
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


def refuse_nul_parameters(path: str, query: bytes) -> None:
    if "\x00" in path:
        raise InvalidParameter("path", "the path must not contain NUL characters")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                raise InvalidParameter(name.replace("\x00", ""),
                                       "parameters must not contain NUL characters")


def has_nul(data: bytes) -> bool:
    return (b"\\u0000" in data or b"\x00" in data) and NUL.search(data) is not None


def counted(receive: Receive, limit: int) -> Receive:
    seen = 0
    tail = b""

    async def receive_counted() -> Message:
        nonlocal seen, tail
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise BodyTooLarge(limit)
            if has_nul(tail + chunk):
                raise NulInBody()
            tail = (tail + chunk)[-NUL_TAIL:]
        return message

    return receive_counted

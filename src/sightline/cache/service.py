"""Serve a computed JSON result through the cache (placeholder: computes every time).

The stats, query and dashboard endpoints call `respond`; the Redis implementation will keep
this signature.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sightline.jsonresp import json_response

Compute = Callable[[], Awaitable[dict[str, Any]]]


async def respond(
    request: Request,
    project_id: str,
    kind: str,
    query: dict[str, Any],
    span: tuple[datetime, datetime] | None,
    compute: Compute,
) -> Response:
    """`kind` names the report (e.g. "stats.pages", "dashboard"); `query` is the normalized query
    (JSON-able, part of the key); `span` is the range of event instants the result depends on
    (None: any change in the project)."""
    return json_response(await compute(), headers={"X-Cache": "BYPASS"})

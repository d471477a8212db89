"""JSON responses serialized once with orjson (dates, decimals and numpy-free data)."""

from typing import Any

import orjson
from starlette.responses import Response

JSON = "application/json"


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def json_response(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status_code, headers=headers, media_type=JSON)

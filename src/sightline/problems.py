"""RFC 9457 problem+json errors: one AppError family and the handlers that render it."""

from typing import Any

import orjson
import structlog
from asyncpg.exceptions import ConnectionDoesNotExistError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status = 500
    title = "Internal server error"
    slug = "internal"

    def __init__(self, detail: str, headers: dict[str, str] | None = None, **members: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.members = members


class InvalidParameter(AppError):
    status, title, slug = 400, "Invalid parameter", "invalid-parameter"

    def __init__(self, parameter: str, detail: str, allowed: list[str] | None = None):
        members: dict[str, Any] = {"parameter": parameter}
        if allowed is not None:
            members["allowed"] = allowed
        super().__init__(detail, **members)


class MalformedBody(AppError):
    status, title, slug = 400, "Malformed request body", "malformed-body"


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid API key is required"):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(AppError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class BatchInvalid(AppError):
    status, title, slug = 422, "Invalid events", "batch-invalid"

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(f"{len(errors)} invalid field(s); nothing was stored", errors=errors)


class BodyInvalid(AppError):
    status, title, slug = 422, "Invalid body", "body-invalid"

    def __init__(self, errors: list[dict[str, Any]]):
        first = errors[0] if errors else {}
        detail = (f"{first.get('field') or 'body'}: {first['message']}" if first.get("message")
                  else "The request body does not match the schema")
        super().__init__(detail, errors=errors)


class RateLimited(AppError):
    status, title, slug = 429, "Too many requests", "rate-limited"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(AppError):
    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


# SQLSTATE classes of a database that cannot answer now: connection exception (08), insufficient
# resources (53), operator intervention (57: statement timeout, shutdown, starting up), and a
# lock not available in time (55P03).
UNAVAILABLE_SQLSTATES = ("08", "53", "57", "55P03")


def causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (a DBAPI error's `orig`) and what caused it."""
    chain: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(chain) < 10:
        current = todo.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return chain


def database_unavailable(exc: BaseException) -> bool:
    """Is this the database not answering in time (a 503), rather than a bug (a 500)?"""
    for error in causes(exc):
        if isinstance(error, (PoolTimeout, OSError, ConnectionDoesNotExistError)):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATES):
            return True
    return False


def unavailable_problem() -> ServiceUnavailable:
    return ServiceUnavailable("The database could not answer in time; retry shortly")


def problem_response(
    request: Request, status: int, title: str, slug: str, detail: str,
    headers: dict[str, str] | None = None, **members: Any,
) -> Response:
    body = {
        "type": f"/problems/{slug}", "title": title, "status": status,
        "detail": detail, "instance": request.url.path, **members,
    }
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_JSON)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        errors.append({
            "field": ".".join(location[1:]) or (location[0] if location else ""),
            "location": location[0] if location else "",
            "message": error.get("msg", "").removeprefix("Value error, "),
            "type": error.get("type", ""),
        })
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: AppError) -> Response:
        return problem_response(
            request, exc.status, exc.title, exc.slug, exc.detail, exc.headers, **exc.members
        )

    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        in_body = any(e["location"] == "body" for e in errors)
        if in_body and any(e["type"] == "json_invalid" for e in errors):
            return problem_response(request, 400, MalformedBody.title, MalformedBody.slug,
                                    "The body is not valid JSON")
        if in_body:
            first = errors[0]
            return problem_response(request, 422, BodyInvalid.title, BodyInvalid.slug,
                                    f"{first['field'] or 'body'}: {first['message']}",
                                    errors=errors)
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        return problem_response(request, 400, InvalidParameter.title, InvalidParameter.slug,
                                f"{first['field']}: {first['message']}",
                                parameter=first["field"], errors=errors)

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        return problem_response(request, exc.status_code, titles.get(exc.status_code, "Error"),
                                "http-error", str(exc.detail), getattr(exc, "headers", None))

    app.add_exception_handler(AppError, on_app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object", "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details; members beyond these name what was wrong",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "parameter": {"type": "string"}, "allowed": {"type": "array", "items": {}},
        "errors": {"type": "array", "items": {"type": "object"}},
        "request_id": {"type": "string"},
    },
}
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def with_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Document errors as they are sent: every 4xx and 5xx is problem+json; a bad parameter is a
    400 and a bad body a 422 (FastAPI's default 422 for parameters never happens); any route can
    answer 503 when the database cannot."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation["responses"]
            if "requestBody" not in operation:
                responses.pop("422", None)
            if operation.get("parameters") or "requestBody" in operation:
                responses.setdefault("400", {"description": "Invalid parameter or malformed body"})
            responses.setdefault("503", {"description": "The database is unavailable or busy; "
                                                        "retry after Retry-After"})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = PROBLEM_CONTENT
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def document_problems(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_for(request: Request, exc: Exception) -> Response:
    """The response for an exception no route handled; only bugs are logged with a traceback."""
    if isinstance(exc, AppError):
        return problem_response(request, exc.status, exc.title, exc.slug, exc.detail,
                                exc.headers, **exc.members)
    if database_unavailable(exc):
        log.warning("db.unavailable", error=type(exc).__name__,
                    cause=type(causes(exc)[-1]).__name__)
        problem = unavailable_problem()
        return problem_response(request, problem.status, problem.title, problem.slug,
                                problem.detail, problem.headers)
    request_id = getattr(request.state, "request_id", "")
    log.exception("request.failed", request_id=request_id)
    return problem_response(request, 500, AppError.title, AppError.slug,
                            "An unexpected error occurred", request_id=request_id)


class ProblemMiddleware:
    """The error boundary around every route and middleware below it: whatever escapes becomes
    a problem+json response and is never raised on to the server, which would log "Exception in
    ASGI application" and close the client's keep-alive connection."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            log.info("request.client_gone")
        except Exception as exc:
            response = problem_for(Request(scope), exc)
            if started:  # the status line is out: the server ends the incomplete response
                log.warning("request.failed_mid_response", status=response.status_code)
                return
            await response(scope, receive, send)

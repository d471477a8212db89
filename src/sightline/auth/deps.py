"""Resolve `Authorization: Bearer <key>` into a Principal, with a short in-process cache.

The cache means a warm stats request costs no database query at all, key check included.
"""

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from sightline.auth import queries
from sightline.auth.keys import Scope, has_valid_checksum, hash_key
from sightline.problems import Forbidden, NotFound, Unauthorized
from sightline.state import app_state


@dataclass(frozen=True, slots=True)
class Principal:
    project_id: str
    scope: Scope


def bearer_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized()
    return key.strip()


async def resolve_principal(request: Request, key: str) -> Principal:
    """The key's principal; checked once per request (the body gate may have done it already)."""
    checked: tuple[str, Principal] | None = getattr(request.state, "principal", None)
    if checked is not None and checked[0] == key:
        return checked[1]
    if not has_valid_checksum(key):
        raise Unauthorized("Unknown API key")
    key_hash = hash_key(key)
    state = app_state(request)

    async def lookup() -> Principal | None:
        async with state.sessionmaker() as session:
            row = (await session.execute(queries.select_key_by_hash(key_hash))).first()
        return Principal(row.project_id, Scope(row.scope)) if row else None

    principal = await state.key_cache.get_or_load(key_hash, lookup)
    if principal is None:
        raise Unauthorized("Unknown API key")
    state.rate_limiter.take(key_hash)
    request.state.principal = (key, principal)
    return principal


async def check_credential(request: Request) -> None:
    """Before a body is read: the request carries a known key or the instance admin token."""
    key = bearer_key(request)
    token = getattr(app_state(request).settings, "admin_token", None)
    if token is not None and token.get_secret_value() and secrets.compare_digest(
            key.encode(), token.get_secret_value().encode()):
        return
    await resolve_principal(request, key)


def require(*scopes: Scope, project_in_path: bool = True):  # type: ignore[no-untyped-def]
    async def dependency(request: Request) -> Principal:
        principal = await resolve_principal(request, bearer_key(request))
        project_id = request.path_params.get("project_id") if project_in_path else None
        if project_id is not None and project_id != principal.project_id:
            raise NotFound(f"Project {project_id} not found")
        if principal.scope not in scopes:
            allowed = " or ".join(scope.value for scope in scopes)
            raise Forbidden(f"This route needs a key of scope {allowed}")
        return principal

    return dependency


ReadKey = Annotated[Principal, Depends(require(Scope.READ, Scope.ADMIN))]
AdminKey = Annotated[Principal, Depends(require(Scope.ADMIN))]
IngestKey = Annotated[
    Principal, Depends(require(Scope.INGEST, Scope.ADMIN, project_in_path=False))
]

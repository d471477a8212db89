"""Resolve `Authorization: Bearer <key>` into a Principal, with a short in-process cache.

The cache means a warm stats request costs no database query at all, key check included.
"""

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sightline.auth.keys import Scope, has_valid_checksum, hash_key
from sightline.problems import Forbidden, NotFound, Unauthorized
from sightline.state import app_state


# Declares the bearer scheme in OpenAPI (the "Authorize" button of /docs); the key itself is read
# by bearer_key so that a missing key is a problem+json 401 like every other.
BEARER = HTTPBearer(auto_error=False, description="A project key (sl_admin_…, sl_read_…, "
                    "sl_ingest_…) or, for the projects routes, SIGHTLINE_ADMIN_TOKEN")
Declared = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


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
    principal = await state.key_cache.get(key_hash)
    if principal is None:
        raise Unauthorized("Unknown API key")
    await state.rate_limiter.take(key_hash)
    request.state.principal = (key, principal)
    return principal


async def check_credential(request: Request) -> None:
    """Before a body is read: the request carries a known key or the instance admin token."""
    key = bearer_key(request)
    if not is_instance_token(request, key):
        await resolve_principal(request, key)


def is_instance_token(request: Request, key: str) -> bool:
    """Is `key` the instance's SIGHTLINE_ADMIN_TOKEN (never true while it is unset)?"""
    token = app_state(request).settings.admin_token.get_secret_value()
    return bool(token) and secrets.compare_digest(key.encode(), token.encode())


async def require_instance(request: Request, _: Declared) -> None:
    key = bearer_key(request)
    if is_instance_token(request, key):
        return
    if has_valid_checksum(key):  # a project key: known but not enough, or unknown
        await resolve_principal(request, key)
        raise Forbidden("This route needs the instance admin token (SIGHTLINE_ADMIN_TOKEN)")
    raise Unauthorized("Unknown API key or admin token")


def require(*scopes: Scope, project_in_path: bool = True,
            instance: bool = False):  # type: ignore[no-untyped-def]
    """A project key of one of `scopes`; with `instance`, the instance admin token acts as the
    admin key of the project in the path."""
    async def dependency(request: Request, _: Declared) -> Principal:
        key = bearer_key(request)
        project_id = request.path_params.get("project_id") if project_in_path else None
        if instance and project_id is not None and is_instance_token(request, key):
            return Principal(project_id, Scope.ADMIN)
        principal = await resolve_principal(request, key)
        if project_id is not None and project_id != principal.project_id:
            raise NotFound(f"Project {project_id} not found")
        if principal.scope not in scopes:
            allowed = " or ".join(scope.value for scope in scopes)
            raise Forbidden(f"This route needs a key of scope {allowed}")
        return principal

    return dependency


ReadKey = Annotated[Principal, Depends(require(Scope.READ, Scope.ADMIN))]
AdminKey = Annotated[Principal, Depends(require(Scope.ADMIN))]
InstanceAdmin = Depends(require_instance)
ProjectReadKey = Annotated[Principal, Depends(require(Scope.READ, Scope.ADMIN, instance=True))]
ProjectAdminKey = Annotated[Principal, Depends(require(Scope.ADMIN, instance=True))]
IngestKey = Annotated[
    Principal, Depends(require(Scope.INGEST, Scope.ADMIN, project_in_path=False))
]

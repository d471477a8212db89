"""Keys of a project (SPEC section 9): its admin key or the instance admin token; the secret
is shown once, at creation."""

from fastapi import APIRouter, Response

from sightline.auth import service
from sightline.auth.deps import ProjectAdminKey
from sightline.auth.schemas import KeyCreate, KeyCreated, KeyOut
from sightline.db import DbSession, after_commit
from sightline.state import AppState

router = APIRouter(prefix="/api/v1/projects/{project_id}/keys", tags=["keys"])
PROBLEMS = {401: {"description": "No or unknown key"}, 403: {"description": "Not an admin key"},
            404: {"description": "Not found"}}


@router.get("", response_model=list[KeyOut], responses=PROBLEMS)
async def list_keys(project_id: str, key: ProjectAdminKey, db: DbSession) -> list[KeyOut]:
    return await service.list_keys(db, key.project_id)


@router.post("", response_model=KeyCreated, status_code=201,
             responses={**PROBLEMS, 422: {"description": "Invalid key request"}})
async def create_key(project_id: str, body: KeyCreate, key: ProjectAdminKey,
                     db: DbSession) -> KeyCreated:
    return await service.create_key(db, key.project_id, body)


@router.delete("/{key_id}", status_code=204, responses=PROBLEMS,
               summary="Revoke a key: it stops working in every process within 1 second")
async def revoke_key(project_id: str, key_id: str, key: ProjectAdminKey, db: DbSession) -> Response:
    key_hash = await service.revoke_key(db, key.project_id, key_id)

    async def forget(state: AppState) -> None:
        state.key_cache.forget(key_hash)

    after_commit(db, forget)
    return Response(status_code=204)

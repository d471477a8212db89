"""Keys of a project: created (the secret shown once), listed, revoked; and the lookup behind
the key cache, which notes a key's last use at most once a minute."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sightline.auth import queries
from sightline.auth.deps import Principal
from sightline.auth.keys import Scope, display_prefix, generate_key, hash_key
from sightline.auth.schemas import KeyCreate, KeyCreated, KeyOut
from sightline.ids import new_id
from sightline.models import ApiKey
from sightline.problems import NotFound


def new_key(project_id: str, scope: Scope, name: str = "") -> tuple[ApiKey, str]:
    """A key row and its secret (stored only as a hash)."""
    secret = generate_key(scope)
    row = ApiKey(project_id=project_id, id=new_id("k"), scope=scope.value, name=name,
                 key_hash=hash_key(secret), display_prefix=display_prefix(secret))
    return row, secret


def key_out(row: ApiKey) -> KeyOut:
    return KeyOut(id=row.id, name=row.name, scope=Scope(row.scope), prefix=row.display_prefix,
                  created_at=row.created_at, last_used_at=row.last_used_at)


async def create_key(db: AsyncSession, project_id: str, key: KeyCreate) -> KeyCreated:
    row, secret = new_key(project_id, key.scope, key.name)
    db.add(row)
    await db.flush()
    await db.refresh(row, ["created_at"])
    return KeyCreated(**key_out(row).model_dump(), key=secret)


async def list_keys(db: AsyncSession, project_id: str) -> list[KeyOut]:
    return [key_out(row) for row in (await db.execute(queries.select_keys(project_id))).scalars()]


async def revoke_key(db: AsyncSession, project_id: str, key_id: str) -> bytes:
    """Delete the key; returns its hash (this process forgets it at once, the others within
    the key cache's 1 s)."""
    key_hash = (await db.execute(queries.delete_key(project_id, key_id))).scalar_one_or_none()
    if key_hash is None:
        raise NotFound(f"Key {key_id} not found")
    return key_hash


async def lookup_key(sessionmaker: async_sessionmaker[AsyncSession],
                     key_hash: bytes) -> Principal | None:
    """The principal of a key hash, for the key cache; notes the use when the recorded one is
    over a minute old."""
    async with sessionmaker() as session:
        row = (await session.execute(queries.select_key_by_hash(key_hash))).first()
        if row is None:
            return None
        if row.use_is_stale:
            await session.execute(queries.update_last_used(row.project_id, row.id))
            await session.commit()
    return Principal(row.project_id, Scope(row.scope))

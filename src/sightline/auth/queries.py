from sqlalchemy import Delete, Select, Update, delete, func, or_, select, update

from sightline.models import ApiKey

LAST_USE_RESOLUTION_SECONDS = 60  # last_used_at is written at most this often per key


def select_key_by_hash(key_hash: bytes) -> Select[tuple[str, str, str, bool]]:
    """The key's principal, and whether its last use is older than the resolution."""
    stale = or_(ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < func.now() - func.make_interval(
                    0, 0, 0, 0, 0, 0, LAST_USE_RESOLUTION_SECONDS))
    return select(ApiKey.project_id, ApiKey.scope, ApiKey.id, stale.label("use_is_stale")).where(
        ApiKey.key_hash == key_hash)


def update_last_used(project_id: str, key_id: str) -> Update:
    return (update(ApiKey).where(ApiKey.project_id == project_id, ApiKey.id == key_id)
            .values(last_used_at=func.now()))


def select_keys(project_id: str) -> Select[tuple[ApiKey]]:
    return (select(ApiKey).where(ApiKey.project_id == project_id)
            .order_by(ApiKey.created_at, ApiKey.id))


def delete_key(project_id: str, key_id: str) -> Delete:
    return (delete(ApiKey).where(ApiKey.project_id == project_id, ApiKey.id == key_id)
            .returning(ApiKey.key_hash))

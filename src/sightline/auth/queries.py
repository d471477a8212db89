from sqlalchemy import Select, select

from sightline.models import ApiKey


def select_key_by_hash(key_hash: bytes) -> Select[tuple[str, str]]:
    return select(ApiKey.project_id, ApiKey.scope).where(ApiKey.key_hash == key_hash)

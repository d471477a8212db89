"""Visitor ids without cookies: a keyed hash of site, address and user agent under a secret salt
that changes every UTC day. The salt is shared by every server process through the database and
deleted after two days, so no stored value leads back to an address."""

import asyncio
import hashlib
import secrets
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sightline.tracking import queries


async def load_salt(db: AsyncSession, day: date) -> bytes:
    """The salt of `day`, made now if no process made it yet; older salts are deleted."""
    await db.execute(queries.insert_salt(day, secrets.token_bytes(32)))
    await db.execute(queries.delete_old_salts(day))
    return (await db.execute(queries.select_salt(day))).scalar_one()


class Salts:
    """The current day's salt, read from the database once per day and process."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self.sessionmaker = sessionmaker
        self.day: date | None = None
        self.secret = b""
        self.lock = asyncio.Lock()

    async def of(self, day: date) -> bytes:
        if day != self.day:
            async with self.lock:
                if day != self.day:
                    async with self.sessionmaker() as db:
                        secret = await load_salt(db, day)
                        await db.commit()
                    self.day, self.secret = day, secret
        return self.secret


def visitor_id(salt: bytes, site_id: str, address: str, user_agent: str) -> str:
    digest = hashlib.blake2b(f"{site_id}\0{address}\0{user_agent}".encode(), key=salt,
                             digest_size=16)
    return digest.hexdigest()

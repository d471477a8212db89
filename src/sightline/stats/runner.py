"""Execute statements, each on its own pooled connection so independent parts run concurrently."""

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine


class Runner:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def rows(self, statement: Select) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(statement)
            return [dict(row) for row in result.mappings()]

    async def one(self, statement: Select) -> dict[str, Any]:
        rows = await self.rows(statement)
        return rows[0]

    async def all(self, *statements: Select) -> Sequence[list[dict[str, Any]]]:
        return await asyncio.gather(*(self.rows(s) for s in statements))

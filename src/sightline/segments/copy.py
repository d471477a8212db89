"""Rows of PostgreSQL into files DuckDB reads."""

from pathlib import Path

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from sightline.segments import queries


async def export(connection: AsyncConnection, statement: Select, path: Path) -> None:
    """Rows of a statement into a CSV file, by COPY (no row passes through Python)."""
    raw = await connection.get_raw_connection()
    sql, args = queries.for_copy(statement)
    await raw.driver_connection.copy_from_query(sql, *args, output=str(path), format="csv")

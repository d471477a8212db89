"""Execute the statements of the stats engine.

`Runner` gives each statement its own pooled connection, so independent parts of one response
run concurrently. `BatchingRunner` (dashboards) collects the statements that concurrent reports
issue together and sends them as one statement, so loading a dashboard costs a fixed number of
round trips however many widgets it has.
"""

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DateTime, LargeBinary, Select, Text, cast, func, literal, literal_column, select, text, union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine

# Reports await a few nested gathers before issuing their first statement; waiting this many
# event-loop turns lets every concurrent report enqueue its statement before a batch is sent.
SETTLE_TURNS = 8


class Runner:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def rows(self, statement: Select) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(statement)
            return result.mappings().all()  # type: ignore[return-value]  # read-only mappings

    async def one(self, statement: Select) -> dict[str, Any]:
        rows = await self.rows(statement)
        return rows[0]

    async def all(self, *statements: Select) -> Sequence[list[dict[str, Any]]]:
        return await asyncio.gather(*(self.rows(s) for s in statements))


def as_json_rows(index: int, statement: Select) -> Select:
    rows = statement.subquery("t")
    aggregated = (select(func.coalesce(func.json_agg(literal_column("t")), text("'[]'::json")))
                  .select_from(rows).scalar_subquery())
    return select(literal(index).label("i"), cast(aggregated, Text).label("rows"))


def columns_of_type(statement: Select, kind: type) -> list[str]:
    return [c.name for c in statement.selected_columns if isinstance(c.type, kind)]


def decode_rows(raw: str, statement: Select) -> list[dict[str, Any]]:
    """JSON rows back to Python values: numbers exact, timestamps and bytea restored."""
    rows: list[dict[str, Any]] = json.loads(raw, parse_float=Decimal)
    for name in columns_of_type(statement, DateTime):
        for row in rows:
            if row[name] is not None:
                row[name] = datetime.fromisoformat(row[name])
    for name in columns_of_type(statement, LargeBinary):
        for row in rows:
            if row[name] is not None:
                row[name] = bytes.fromhex(row[name].removeprefix("\\x"))
    return rows


class BatchingRunner(Runner):
    def __init__(self, engine: AsyncEngine):
        super().__init__(engine)
        self.pending: list[tuple[Select, asyncio.Future[list[dict[str, Any]]]]] = []

    async def rows(self, statement: Select) -> list[dict[str, Any]]:
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self.pending.append((statement, future))
        if len(self.pending) == 1:
            asyncio.get_running_loop().create_task(self.flush())
        return await future

    async def flush(self) -> None:
        for _ in range(SETTLE_TURNS):
            await asyncio.sleep(0)
        batch, self.pending = self.pending, []
        try:
            combined = union_all(*(as_json_rows(i, s) for i, (s, _) in enumerate(batch)))
            async with self.engine.connect() as connection:
                result = (await connection.execute(combined)).all()
        except Exception as exc:  # noqa: BLE001 - hand the failure to every waiting report
            for _, future in batch:
                future.set_exception(exc)
            return
        by_index = {row.i: row.rows for row in result}
        for index, (statement, future) in enumerate(batch):
            future.set_result(decode_rows(by_index[index], statement))

"""Count the SQL statements the app sends, with a listener on the app's engine."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


class Statements:
    def __init__(self) -> None:
        self.sql: list[str] = []

    @property
    def count(self) -> int:
        return len(self.sql)


@contextmanager
def count_statements(app: Any) -> Iterator[Statements]:
    seen = Statements()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.sql.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)

"""Table families the engine reads rows from: the base tables here, or columnar segments
(stats.columnar). Reports ask their Context's tables for the matching events and sessions."""

from datetime import datetime
from typing import Protocol

from sightline.stats.query import Filter
from sightline.stats.sql.sources import Source, matching_events, matching_sessions


class Tables(Protocol):
    def events(self, project_id: str, start: datetime, end: datetime,
               filters: tuple[Filter, ...]) -> Source: ...

    def sessions(self, project_id: str, start: datetime, end: datetime,
                 filters: tuple[Filter, ...]) -> Source: ...


class BaseTables:
    """PostgreSQL's event and session tables."""

    def events(self, project_id: str, start: datetime, end: datetime,
               filters: tuple[Filter, ...]) -> Source:
        return matching_events(project_id, start, end, filters)

    def sessions(self, project_id: str, start: datetime, end: datetime,
                 filters: tuple[Filter, ...]) -> Source:
        return matching_sessions(project_id, start, end, filters)


BASE_TABLES = BaseTables()

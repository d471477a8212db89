"""Aggregates over the matching events or sessions: totals, groups and time buckets.

Statements return measures (stats.metrics); stats.metrics turns them into metrics.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement, Label, Select, bindparam, func, literal_column, select,
)
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP

from sightline.stats.metrics import Table, measures
from sightline.stats.sql.sources import Source


EVENT_TOTALS = ("visitors", "pageviews", "events", "revenue")
SESSION_TOTALS = ("visits", "visitors", "bounces", "duration", "session_pageviews")


def labelled(source: Source, table: Table, names: Sequence[str]) -> list[Label]:
    """The registry's base-table SQL of some measures, labelled by their names."""
    return [m.base(source.rows.c).label(m.name)  # type: ignore[misc]
            for m in measures(table, *names)]


def event_aggregates(source: Source) -> list[Label]:
    return labelled(source, "event", EVENT_TOTALS)


def session_aggregates(source: Source) -> list[Label]:
    return labelled(source, "session", SESSION_TOTALS)


def select_totals(source: Source, aggregates: Sequence[Label]) -> Select:
    return select(*aggregates).select_from(source.from_clause).where(*source.where)


def select_groups(
    source: Source, key: ColumnElement[str], aggregates: Sequence[Label],
    order_by: str | None = None, limit: int | None = None, offset: int = 0,
) -> Select:
    """One row per non-null key; ordered by an aggregate (desc) then key (code point order)."""
    statement = (
        select(key.label("key"), *aggregates)
        .select_from(source.from_clause)
        .where(*source.where, key.is_not(None))
        .group_by(key)
    )
    if order_by is not None:
        statement = statement.order_by(literal_column(order_by).desc(), key.collate("C"))
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    return statement


def bucket_of(instant: ColumnElement[datetime], thresholds: list[datetime]) -> ColumnElement[int]:
    array = bindparam("thresholds", thresholds, type_=ARRAY(TIMESTAMP(timezone=True)), unique=True)
    return func.width_bucket(instant, array)


def select_buckets(
    source: Source, instant: ColumnElement[datetime], thresholds: list[datetime],
    aggregates: Sequence[Label],
) -> Select:
    bucket = bucket_of(instant, thresholds).label("bucket")
    return (select(bucket, *aggregates).select_from(source.from_clause)
            .where(*source.where).group_by(literal_column("bucket")))

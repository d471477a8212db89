"""Aggregates over the matching events or sessions: totals, groups and time buckets.

Statements return raw aggregates (counts and sums); stats.metrics turns them into metrics.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement, Label, Select, and_, bindparam, distinct, func, literal_column, select,
)
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP

from sightline.stats.sql.sources import Source


def event_aggregates(source: Source) -> list[Label]:
    e = source.rows.c
    return [
        func.count(distinct(e.visitor_key)).label("visitors"),
        func.count().filter(e.name == "pageview").label("pageviews"),
        func.count().label("events"),
        func.sum(e.revenue).label("revenue"),
    ]


def session_aggregates(source: Source) -> list[Label]:
    s = source.rows.c
    return [
        func.count().label("visits"),
        func.count(distinct(s.visitor_key)).label("visitors"),
        func.count().filter(and_(s.pageviews == 1, s.events == 1)).label("bounces"),
        func.sum(s.duration).label("duration"),
        func.sum(s.pageviews).label("session_pageviews"),
    ]


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

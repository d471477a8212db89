"""Day rows: the measures of one local day per dimension value, from the event and session tables.

The same statements build the rollups (rollups/, the write side) and compute the days that are
not rolled up yet at query time (stats.rollup_read), so both paths count exactly alike. Their
aggregates are the registry's (stats.metrics); referrers are keyed per source as
"<source>\\n<referrer>".
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Numeric, String, Text, TextualSelect, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from sightline.stats.metrics import Measure, Table, measures
from sightline.stats.periods import instant_range
from sightline.stats.query import SESSION_DIMENSIONS

TOTAL = ""
SOURCE_REFERRER = "source_referrer"
ROLLUP_SESSION_DIMENSIONS = (*SESSION_DIMENSIONS, SOURCE_REFERRER)
SQL_TYPES = {"count": Integer, "sum": Numeric, "union": ARRAY(Integer)}


def is_rollup_session_dimension(dimension: str) -> bool:
    return dimension in ROLLUP_SESSION_DIMENSIONS


# Day rows group by the local date (in :tz) of the event, or of the session's start; only the
# dates in :days are kept, so one statement serves any set of days.
EVENT_DAY = "CAST(e.ts AT TIME ZONE :tz AS date)"
SESSION_DAY = "CAST(s.started_at AT TIME ZONE :tz AS date)"
IN_DAYS = "{day} = ANY(CAST(:days AS date[]))"
ONE_DIMENSION = "(CAST(:dimension AS text) IS NULL OR d.dimension = CAST(:dimension AS text))"


def day_measures(table: Table) -> tuple[Measure, ...]:
    return tuple(m for m in measures(table) if m.day is not None)


def aggregates_sql(table: Table) -> str:
    return ",\n       ".join(f"{m.day} AS {m.column}" for m in day_measures(table))


def result_types(table: Table) -> dict[str, object]:
    return {"day": Date, "dimension": String, "value": Text,
            **{m.column: SQL_TYPES[m.combine] for m in day_measures(table)}}


def event_day_rows(events: str = "event", condition: str = "") -> TextualSelect:
    return text(f"""
SELECT {EVENT_DAY} AS day, d.dimension, d.value,
       {aggregates_sql("event")}
FROM {events} e
CROSS JOIN LATERAL (
    SELECT '' AS dimension, '' AS value
    UNION ALL SELECT 'page', e.path WHERE e.name = 'pageview' AND e.path IS NOT NULL
    UNION ALL SELECT 'event', e.name WHERE e.name <> 'pageview'
    UNION ALL SELECT 'prop:' || p.key, p.value FROM jsonb_each_text(e.properties) AS p
) AS d
WHERE e.project_id = :project_id AND e.ts >= :start AND e.ts < :end
  AND {IN_DAYS.format(day=EVENT_DAY)} AND {ONE_DIMENSION}{condition}
GROUP BY 1, d.dimension, d.value
""").columns(**result_types("event"))  # type: ignore[arg-type]


EVENT_DAY_ROWS = event_day_rows()
# Event rows only add up (no event measure depends on the event's session), so rows kept up to
# one event id are brought up to date by the rows of the events after it. The first read takes
# the events up to :last_id; each later one those in (:after_id, :last_id], by primary key
# (OFFSET 0: never by the time index, whatever the statistics say).
EVENT_DAY_ROWS_UP_TO = event_day_rows(condition=" AND e.id <= :last_id")
NEW_EVENT_DAY_ROWS = event_day_rows("""(
    SELECT * FROM event WHERE project_id = :project_id AND id > :after_id AND id <= :last_id
    OFFSET 0)""")

SESSION_DAY_ROWS = text(f"""
SELECT {SESSION_DAY} AS day, d.dimension, d.value,
       {aggregates_sql("session")}
FROM session s
CROSS JOIN LATERAL (VALUES ('', ''),
    {", ".join(f"('{name}', s.{name})" for name in SESSION_DIMENSIONS)},
    ('{SOURCE_REFERRER}', s.source || E'\\n' || s.referrer)) AS d(dimension, value)
WHERE s.project_id = :project_id AND s.started_at >= :start AND s.started_at < :end
  AND {IN_DAYS.format(day=SESSION_DAY)} AND d.value IS NOT NULL AND {ONE_DIMENSION}
GROUP BY 1, d.dimension, d.value
""").columns(**result_types("session"))  # type: ignore[arg-type]

EXIT_PAGEVIEWS = text(f"""
SELECT {SESSION_DAY} AS day, 'exit_page' AS dimension, e.path AS value,
       count(*) AS exit_pageviews
FROM session s
-- each session's events probed through (project, visitor, ts): with a join, a project without
-- statistics (estimated at one row) got a nested loop scanning all of the project's events
-- once per session (30 s and more for 50,000 events); OFFSET 0 keeps the planner from
-- flattening the probe back into such a join
CROSS JOIN LATERAL (
    SELECT e.path FROM event e
    WHERE e.project_id = s.project_id AND e.visitor_id = s.visitor_id
      AND e.ts >= s.started_at AND e.ts <= s.ended_at AND e.session_key = s.session_key
      AND e.name = 'pageview' AND e.path IS NOT NULL
    OFFSET 0
) AS e
WHERE s.project_id = :project_id AND s.started_at >= :start AND s.started_at < :end
  AND {IN_DAYS.format(day=SESSION_DAY)}
GROUP BY 1, e.path
""").columns(day=Date, dimension=String, value=Text, exit_pageviews=Integer)


def day_statement(statement: TextualSelect, project_id: str, timezone: str, days: list[date],
                  start: datetime, end: datetime, dimension: str | None = None) -> TextualSelect:
    """A day-row statement for some local days, within the instants [start, end) that hold them."""
    params: dict[str, object] = {"project_id": project_id, "tz": timezone, "days": days,
                                 "start": start, "end": end}
    if statement is not EXIT_PAGEVIEWS:
        params["dimension"] = dimension
    # unique names: a dashboard batches many of these statements into one (stats.runner)
    return statement.bindparams(*(bindparam(name, value, unique=True)
                                  for name, value in params.items()))


def needs_events(dimension: str | None) -> bool:
    return dimension in (None, TOTAL) or not is_rollup_session_dimension(dimension)


def needs_sessions(dimension: str | None) -> bool:
    return dimension in (None, TOTAL) or is_rollup_session_dimension(dimension)


def day_statements(project_id: str, days: list[date], zone: ZoneInfo,
                   dimension: str | None, with_events: bool = True) -> list[TextualSelect]:
    """The statements computing the day rows of `days` (of one dimension, or of all: None);
    without the event-table rows when `with_events` is False."""
    start, end = instant_range(min(days), max(days), zone)

    def bound(statement: TextualSelect, with_dimension: bool = True) -> TextualSelect:
        return day_statement(statement, project_id, zone.key, days, start, end,
                             dimension if with_dimension else None)

    statements = []
    if with_events and needs_events(dimension):
        statements.append(bound(EVENT_DAY_ROWS))
    if needs_sessions(dimension):
        statements.append(bound(SESSION_DAY_ROWS))
    if dimension in (None, "exit_page"):
        statements.append(bound(EXIT_PAGEVIEWS, with_dimension=False))
    return statements


def event_day_statement_by_ids(project_id: str, days: list[date], zone: ZoneInfo,
                               dimension: str | None, after_id: int | None,
                               last_id: int) -> TextualSelect:
    """The event-table day rows of `days` from the events with ids in (after_id, last_id]
    (after_id None: all up to last_id)."""
    start, end = instant_range(min(days), max(days), zone)
    template = EVENT_DAY_ROWS_UP_TO if after_id is None else NEW_EVENT_DAY_ROWS
    statement = day_statement(template, project_id, zone.key, days, start, end, dimension)
    ids = {"last_id": last_id} if after_id is None else {"after_id": after_id, "last_id": last_id}
    return statement.bindparams(*(bindparam(name, value, unique=True)
                                  for name, value in ids.items()))

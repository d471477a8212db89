"""SQL of the daily rollups: day rows per dimension value, their state, visitor numbers.

The same day-row statements build the rollups (worker) and compute the not-yet-rolled-up
days at query time, so both paths count exactly alike.
"""

from datetime import date, datetime

from sqlalchemy import (
    Date, Integer, LargeBinary, Numeric, Select, String, Text, TextualSelect, bindparam, column,
    func,
    select, table, text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from sightline.stats.query import SESSION_DIMENSIONS

# Referrers are listed per source: the rollup keys them by "<source>\n<referrer>".
SOURCE_REFERRER = "source_referrer"
ROLLUP_SESSION_DIMENSIONS = (*SESSION_DIMENSIONS, SOURCE_REFERRER)


def is_rollup_session_dimension(dimension: str) -> bool:
    return dimension in ROLLUP_SESSION_DIMENSIONS

INSERT_NEW_VISITORS = text("""
INSERT INTO visitor (project_id, visitor_key)
SELECT DISTINCT CAST(:project_id AS varchar), k
FROM unnest(CAST(:visitor_keys AS bigint[])) AS k
WHERE NOT EXISTS (SELECT 1 FROM visitor v WHERE v.project_id = :project_id AND v.visitor_key = k)
ON CONFLICT DO NOTHING
""")

# Rows stored without a visitor number (seeded by COPY, or older) get theirs before a build.
NUMBER_EVENTS_OF_RANGE = text("""
UPDATE event e SET visitor_num = v.num
FROM visitor v
WHERE e.project_id = :project_id AND e.ts >= :start AND e.ts < :end AND e.visitor_num IS NULL
  AND v.project_id = e.project_id AND v.visitor_key = e.visitor_key
""")

NUMBER_SESSIONS_OF_RANGE = text("""
UPDATE session s SET visitor_num = v.num
FROM visitor v
WHERE s.project_id = :project_id AND s.started_at >= :start AND s.started_at < :end
  AND s.visitor_num IS NULL AND v.project_id = s.project_id AND v.visitor_key = s.visitor_key
""")

INSERT_NEW_VISITORS_OF_RANGE = text("""
INSERT INTO visitor (project_id, visitor_key)
SELECT DISTINCT e.project_id, e.visitor_key
FROM event e
WHERE e.project_id = :project_id AND e.ts >= :start AND e.ts < :end
  AND NOT EXISTS (SELECT 1 FROM visitor v
                  WHERE v.project_id = e.project_id AND v.visitor_key = e.visitor_key)
ON CONFLICT DO NOTHING
""")

# After a bulk load the planner needs fresh statistics (autovacuum would take a while).
ANALYZE_TABLES = text("ANALYZE event, session, visitor")

BUMP_DAYS = text("""
INSERT INTO rollup_state (project_id, day, version, built_version)
SELECT CAST(:project_id AS varchar), d, 1, 0 FROM unnest(CAST(:days AS date[])) AS d
ON CONFLICT (project_id, day) DO UPDATE SET version = rollup_state.version + 1
""")

# One pending build per project; a short delay lets a burst of batches share it.
SCHEDULE_BUILD = text("""
INSERT INTO job (project_id, task, payload, status, attempts, run_at)
SELECT CAST(:project_id AS varchar), 'rollups.build', CAST('{}' AS jsonb), 'queued', 0,
       now() + CAST(:delay AS interval)
WHERE NOT EXISTS (SELECT 1 FROM job WHERE project_id = :project_id AND task = 'rollups.build'
                  AND status = 'queued')
""")

# More stale days remain after a bounded build: the pending build (if any) is due now.
HURRY_BUILD = text("""
UPDATE job SET run_at = now()
WHERE project_id = :project_id AND task = 'rollups.build' AND status = 'queued' AND run_at > now()
""")

BUMP_ALL_DAYS = text("""
UPDATE rollup_state SET version = version + 1 WHERE project_id = :project_id
""")

SELECT_STALE_DAYS = text("""
SELECT day, built_at FROM rollup_state
WHERE project_id = :project_id AND built_version <> version ORDER BY day DESC
""")

SELECT_DAY_VERSION = text("""
SELECT version FROM rollup_state WHERE project_id = :project_id AND day = :day
""")

MARK_BUILT = text("""
INSERT INTO rollup_state (project_id, day, version, built_version, built_at)
VALUES (:project_id, :day, :version, :version, now())
ON CONFLICT (project_id, day) DO UPDATE SET built_version = :version, built_at = now()
""")

DELETE_DAY = text("DELETE FROM rollup_day WHERE project_id = :project_id AND day = :day")

ROLLUP_COLUMNS = {
    "events": "integer[]", "pageviews": "integer[]", "revenue": "numeric[]", "orders": "integer[]",
    "event_visitors": "bytea[]", "paying_visitors": "bytea[]", "visits": "integer[]",
    "bounces": "integer[]", "duration": "numeric[]", "session_pageviews": "integer[]",
    "session_visitors": "bytea[]", "exit_pageviews": "integer[]",
}
INSERT_DAY_ROWS = text(f"""
INSERT INTO rollup_day (project_id, day, dimension, value, {", ".join(ROLLUP_COLUMNS)})
SELECT CAST(:project_id AS varchar), CAST(:day AS date), u.*
FROM unnest(CAST(:dimension AS text[]), CAST(:value AS text[]),
            {", ".join(f"CAST(:{name} AS {kind})" for name, kind in ROLLUP_COLUMNS.items())}) AS u
""")

# Day rows group by the local date (in :tz) of the event, or of the session's start; only the
# dates in :days are kept, so one statement serves any set of days.
EVENT_DAY = "CAST(e.ts AT TIME ZONE :tz AS date)"
SESSION_DAY = "CAST(s.started_at AT TIME ZONE :tz AS date)"
IN_DAYS = "{day} = ANY(CAST(:days AS date[]))"
ONE_DIMENSION = "(CAST(:dimension AS text) IS NULL OR d.dimension = CAST(:dimension AS text))"

EVENT_DAY_ROWS = text(f"""
SELECT {EVENT_DAY} AS day, d.dimension, d.value,
       count(*) AS events,
       count(*) FILTER (WHERE e.name = 'pageview') AS pageviews,
       sum(e.revenue) AS revenue,
       count(e.revenue) AS orders,
       array_agg(DISTINCT e.visitor_num) AS event_visitors,
       array_agg(DISTINCT e.visitor_num) FILTER (WHERE e.revenue IS NOT NULL) AS paying_visitors
FROM event e
CROSS JOIN LATERAL (
    SELECT '' AS dimension, '' AS value
    UNION ALL SELECT 'page', e.path WHERE e.name = 'pageview' AND e.path IS NOT NULL
    UNION ALL SELECT 'event', e.name WHERE e.name <> 'pageview'
    UNION ALL SELECT 'prop:' || p.key, p.value FROM jsonb_each_text(e.properties) AS p
) AS d
WHERE e.project_id = :project_id AND e.ts >= :start AND e.ts < :end
  AND {IN_DAYS.format(day=EVENT_DAY)} AND {ONE_DIMENSION}
GROUP BY 1, d.dimension, d.value
""").columns(day=Date, dimension=String, value=Text, events=Integer, pageviews=Integer,
             revenue=Numeric, orders=Integer, event_visitors=ARRAY(Integer),
             paying_visitors=ARRAY(Integer))

SESSION_DAY_ROWS = text(f"""
SELECT {SESSION_DAY} AS day, d.dimension, d.value,
       count(*) AS visits,
       count(*) FILTER (WHERE s.pageviews = 1 AND s.events = 1) AS bounces,
       sum(s.duration) AS duration,
       sum(s.pageviews) AS session_pageviews,
       array_agg(DISTINCT s.visitor_num) AS session_visitors
FROM session s
CROSS JOIN LATERAL (VALUES ('', ''),
    {", ".join(f"('{name}', s.{name})" for name in SESSION_DIMENSIONS)},
    ('{SOURCE_REFERRER}', s.source || E'\n' || s.referrer)) AS d(dimension, value)
WHERE s.project_id = :project_id AND s.started_at >= :start AND s.started_at < :end
  AND {IN_DAYS.format(day=SESSION_DAY)} AND d.value IS NOT NULL AND {ONE_DIMENSION}
GROUP BY 1, d.dimension, d.value
""").columns(day=Date, dimension=String, value=Text, visits=Integer, bounces=Integer,
             duration=Numeric, session_pageviews=Integer, session_visitors=ARRAY(Integer))

EXIT_PAGEVIEWS = text(f"""
SELECT {SESSION_DAY} AS day, 'exit_page' AS dimension, e.path AS value,
       count(*) AS exit_pageviews
FROM session s
JOIN event e ON e.project_id = s.project_id AND e.visitor_id = s.visitor_id
            AND e.session_key = s.session_key
WHERE s.project_id = :project_id AND s.started_at >= :start AND s.started_at < :end
  AND {IN_DAYS.format(day=SESSION_DAY)} AND e.name = 'pageview' AND e.path IS NOT NULL
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


ROLLUP_DAY = table(
    "rollup_day", column("project_id", String), column("day", Date), column("dimension", String),
    column("value", Text), *(column(name, LargeBinary if kind == "bytea[]" else
                                    Numeric if kind == "numeric[]" else Integer)
                             for name, kind in ROLLUP_COLUMNS.items()),
)
ROLLUP_STATE = table("rollup_state", column("project_id", String), column("day", Date),
                     column("version", Integer), column("built_version", Integer))


def select_built_days(project_id: str, first: date, last: date) -> Select:
    return (select(ROLLUP_STATE.c.day)
            .where(ROLLUP_STATE.c.project_id == project_id, ROLLUP_STATE.c.day >= first,
                   ROLLUP_STATE.c.day <= last,
                   ROLLUP_STATE.c.built_version == ROLLUP_STATE.c.version))


EVENT_ROLLUP_COLUMNS = ("events", "pageviews", "revenue", "orders", "event_visitors")
SESSION_ROLLUP_COLUMNS = ("visits", "bounces", "duration", "session_pageviews",
                          "session_visitors", "exit_pageviews")


def select_day_rows(project_id: str, days: list[date], dimension: str) -> Select:
    """Built rows of one dimension, with only the columns that dimension fills."""
    if dimension == "":
        names: tuple[str, ...] = tuple(ROLLUP_COLUMNS)
    elif is_rollup_session_dimension(dimension):
        names = SESSION_ROLLUP_COLUMNS
    else:
        names = EVENT_ROLLUP_COLUMNS
    c = ROLLUP_DAY.c
    return (select(c.day, c.dimension, c.value, *(c[name] for name in names))
            .where(ROLLUP_DAY.c.project_id == project_id,
                   ROLLUP_DAY.c.day == bindparam("days", days, type_=ARRAY(Date), unique=True).any_(),
                   ROLLUP_DAY.c.dimension == dimension))


def select_first_day(project_id: str) -> Select:
    """The first local day the project has data for (any day ingest ever touched)."""
    return select(func.min(ROLLUP_STATE.c.day).label("day")).where(
        ROLLUP_STATE.c.project_id == project_id)

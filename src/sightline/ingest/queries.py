"""SQL of ingestion: the deduplicating insert and the session rebuild.

Sessions are derived data: whenever events arrive, every session they can touch is rebuilt
from its events, so the stored sessions never depend on the order events arrived in.
"""

from sqlalchemy import text

LOCK_PROJECT = text("SELECT pg_advisory_xact_lock(hashtextextended(:project_id, 7))")

EVENT_COLUMNS = (
    "event_id", "name", "ts", "visitor_id", "visitor_key", "session_id", "path", "referrer",
    "source", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "country",
    "device", "browser", "os", "revenue", "properties",
)
COLUMN_TYPES = {
    "ts": "timestamptz[]", "visitor_key": "bigint[]", "revenue": "numeric[]",
}

# visitor_num comes from the visitor table (registered just before, under the project lock).
# The visitor number is looked up with the project id as a join value (see below): as a
# constant, a new project's "one row" estimate let the planner probe (project_id, num) and
# filter on the visitor, reading every visitor of the project for each event.
INSERT_EVENTS = text(f"""
WITH p AS MATERIALIZED (SELECT CAST(:project_id AS varchar) AS project_id)
INSERT INTO event (project_id, session_key, visitor_num, {", ".join(EVENT_COLUMNS)})
SELECT p.project_id, CASE WHEN u.session_id IS NULL THEN NULL ELSE 's:' || u.session_id END,
       (SELECT v.num FROM visitor v
        WHERE v.project_id = p.project_id AND v.visitor_key = u.visitor_key),
       {", ".join("u.properties::jsonb" if c == "properties" else "u." + c for c in EVENT_COLUMNS)}
FROM p, unnest({", ".join(f"CAST(:{c} AS {COLUMN_TYPES.get(c, 'text[]')})" for c in EVENT_COLUMNS)})
     AS u({", ".join(EVENT_COLUMNS)})
ON CONFLICT (project_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
RETURNING id, visitor_id, session_key, ts
""")

# Every statement below reaches events and sessions through LATERAL probes by (project, visitor),
# with the project id read from a materialized CTE rather than given as a constant. On a new
# project the statistics say "one row" for a constant project id, and the planner then scanned
# the project's whole history for every visitor (seconds per batch); as a join value it is
# estimated from the number of projects, and the (project, visitor) indexes win.

# Auto sessions: a visitor's events without session_id, split where the gap exceeds the timeout.
# For each visitor with new events, the window spans the new events and every stored session
# within the timeout of them; sessions outside it cannot change.
WINDOWS = """
WITH win AS MATERIALIZED (
    SELECT CAST(:project_id AS varchar) AS project_id, w.*
    FROM unnest(CAST(:visitor_ids AS text[]), CAST(:los AS timestamptz[]),
                CAST(:his AS timestamptz[])) AS w(visitor_id, lo, hi)
)"""

# The spans of new events per visitor, widened to the stored sessions within the timeout.
AUTO_SESSION_WINDOWS = text(WINDOWS + """
SELECT win.visitor_id, least(win.lo, near.lo) AS lo, greatest(win.hi, near.hi) AS hi
FROM win
CROSS JOIN LATERAL (
    SELECT min(s.started_at) AS lo, max(s.ended_at) AS hi
    FROM session s
    WHERE s.project_id = win.project_id AND s.visitor_id = win.visitor_id
      AND s.session_key LIKE 'a:%'
      AND s.ended_at >= win.lo - CAST(:timeout AS interval)
      AND s.started_at <= win.hi + CAST(:timeout AS interval)
) AS near
""")

WINDOWS_CTE = WINDOWS + """,
window_events AS (
    SELECT e.row_id, e.id, e.visitor_id, e.ts, e.session_key
    FROM win CROSS JOIN LATERAL (
        SELECT ctid AS row_id, id, visitor_id, ts, session_key FROM event
        WHERE project_id = win.project_id AND visitor_id = win.visitor_id
          AND ts BETWEEN win.lo AND win.hi AND session_id IS NULL
    ) AS e
)"""

DELETE_AUTO_SESSIONS_IN_WINDOWS = text(WINDOWS + """
DELETE FROM session s
WHERE (s.project_id, s.visitor_id, s.session_key) IN (
    SELECT win.project_id, win.visitor_id, old.session_key
    FROM win CROSS JOIN LATERAL (
        SELECT session_key FROM session
        WHERE project_id = win.project_id AND visitor_id = win.visitor_id
          AND session_key LIKE 'a:%' AND started_at BETWEEN win.lo AND win.hi
    ) AS old
)
RETURNING s.started_at, s.ended_at
""")

ASSIGN_AUTO_SESSION_KEYS = text(WINDOWS_CTE + """,
ordered AS (
    SELECT row_id, id, visitor_id, ts,
           CASE WHEN ts - lag(ts) OVER w > CAST(:timeout AS interval) THEN 1 ELSE 0 END AS gap
    FROM window_events
    WINDOW w AS (PARTITION BY visitor_id ORDER BY ts, id)
),
numbered AS (
    SELECT row_id, id, visitor_id, ts,
           sum(gap) OVER (PARTITION BY visitor_id ORDER BY ts, id ROWS UNBOUNDED PRECEDING) AS n
    FROM ordered
),
keyed AS (
    SELECT row_id, 'a:' || to_char(min(ts) OVER (PARTITION BY visitor_id, n) AT TIME ZONE 'UTC',
                              'YYYYMMDD"T"HH24MISS.US') AS session_key
    FROM numbered
)
-- by row address (ctid, stable under the project lock): a TID scan per row, whatever the plan;
-- the project id too, so a distributed engine routes the update to the project's shard
UPDATE event e SET session_key = keyed.session_key
FROM keyed
WHERE e.ctid = keyed.row_id AND e.project_id = CAST(:project_id AS varchar)
  AND e.session_key IS DISTINCT FROM keyed.session_key
""")

SELECT_AUTO_SESSION_KEYS_IN_WINDOWS = text(WINDOWS_CTE + """
SELECT DISTINCT visitor_id, session_key FROM window_events
""")

SESSION_KEYS_CTE = """
WITH k AS MATERIALIZED (
    SELECT CAST(:project_id AS varchar) AS project_id, k.*
    FROM unnest(CAST(:visitor_ids AS text[]), CAST(:session_keys AS text[]))
        AS k(visitor_id, session_key)
)"""

DELETE_SESSIONS = text(SESSION_KEYS_CTE + """
DELETE FROM session s
WHERE (s.project_id, s.visitor_id, s.session_key) IN (
    SELECT k.project_id, k.visitor_id, k.session_key FROM k)
RETURNING s.started_at, s.ended_at
""")

# The events of the sessions in k, probed per session through (project, visitor, ts).
SESSION_EVENTS = """FROM k CROSS JOIN LATERAL (
    SELECT * FROM event
    WHERE project_id = k.project_id AND visitor_id = k.visitor_id
      AND session_key = k.session_key
) AS e"""

# Session attributes come from its first event; ties at one instant are broken by event id
# (code point order), then by arrival.
FIRST = "(array_agg({col} ORDER BY e.ts, e.event_id COLLATE \"C\" NULLS LAST, e.id))[1]"
SESSION_ATTRIBUTES = (
    "source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "country", "device", "browser", "os",
)

INSERT_SESSIONS = text(SESSION_KEYS_CTE + f"""
INSERT INTO session (project_id, visitor_id, session_key, visitor_key, visitor_num,
                     started_at, ended_at,
                     duration, pageviews, events, entry_page, exit_page,
                     {", ".join(SESSION_ATTRIBUTES)})
SELECT CAST(:project_id AS varchar), e.visitor_id, e.session_key, min(e.visitor_key),
       min(e.visitor_num), min(e.ts), max(e.ts),
       extract(epoch FROM max(e.ts) - min(e.ts)),
       count(*) FILTER (WHERE e.name = 'pageview'), count(*),
       (array_agg(e.path ORDER BY e.ts, e.event_id COLLATE "C" NULLS LAST, e.id)
            FILTER (WHERE e.name = 'pageview'))[1],
       (array_agg(e.path ORDER BY e.ts DESC, e.event_id COLLATE "C" DESC NULLS FIRST, e.id DESC)
            FILTER (WHERE e.name = 'pageview'))[1],
       {", ".join(FIRST.format(col="e." + c) for c in SESSION_ATTRIBUTES)}
{SESSION_EVENTS}
GROUP BY e.visitor_id, e.session_key
RETURNING started_at, ended_at
""")

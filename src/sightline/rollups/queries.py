"""SQL of the rollup build (the write side): visitor numbers, day state, the stored day rows.

The day rows themselves are computed by the statements of stats.sql.day_rows, which the read
side also runs for days not built yet, so both count exactly alike.
"""

from sqlalchemy import text

from sightline.stats.metrics import MEASURES

# Visitor numbers are dense per project (each project's roaring bitmaps stay 32-bit however
# many visitors all projects have): new visitors take the numbers after the project's highest,
# under the project's numbering lock (ingest and rollup builds both number visitors).
LOCK_VISITOR_NUMBERS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(:project_id, 8))")

# Visitors are looked up one by one through the primary key, by correlated subqueries (behind
# OFFSET 0 where the planner could turn them into an anti-join) with the project id as a join
# value: on a project the statistics do not know yet, a join or a constant project id let the
# planner read every visitor of the project for each row (statement time-outs at 40,000 events).
INSERT_NEW_VISITORS = text("""
WITH p AS MATERIALIZED (SELECT CAST(:project_id AS varchar) AS project_id)
INSERT INTO visitor (project_id, visitor_key, num)
SELECT p.project_id, new.k,
       (SELECT coalesce(max(num), 0) FROM visitor WHERE project_id = p.project_id)
       + row_number() OVER (ORDER BY new.k)
FROM p, (SELECT DISTINCT k FROM unnest(CAST(:visitor_keys AS bigint[])) AS k) AS new
WHERE NOT EXISTS (SELECT 1 FROM visitor v
                  WHERE v.project_id = p.project_id AND v.visitor_key = new.k OFFSET 0)
ON CONFLICT (project_id, visitor_key) DO NOTHING
""")


# Rows stored without a visitor number (seeded by COPY, or older) get theirs before a build.
NUMBER_EVENTS_OF_RANGE = text("""
UPDATE event e SET visitor_num = (SELECT v.num FROM visitor v
                                  WHERE v.project_id = e.project_id
                                    AND v.visitor_key = e.visitor_key)
WHERE e.project_id = :project_id AND e.ts >= :start AND e.ts < :end AND e.visitor_num IS NULL
""")

NUMBER_SESSIONS_OF_RANGE = text("""
UPDATE session s SET visitor_num = (SELECT v.num FROM visitor v
                                    WHERE v.project_id = s.project_id
                                      AND v.visitor_key = s.visitor_key)
WHERE s.project_id = :project_id AND s.started_at >= :start AND s.started_at < :end
  AND s.visitor_num IS NULL
""")

SELECT_NEW_VISITORS_OF_RANGE = text("""
SELECT DISTINCT e.visitor_key
FROM event e
WHERE e.project_id = :project_id AND e.ts >= :start AND e.ts < :end
  AND NOT EXISTS (SELECT 1 FROM visitor v
                  WHERE v.project_id = e.project_id AND v.visitor_key = e.visitor_key
                  OFFSET 0)
""")

# After a bulk load the planner needs fresh statistics (autovacuum would take a while).
ANALYZE_TABLES = text("ANALYZE event, session, visitor")

BUMP_DAYS = text("""
INSERT INTO rollup_state (project_id, day, version, built_version)
SELECT CAST(:project_id AS varchar), d, 1, 0 FROM unnest(CAST(:days AS date[])) AS d
ON CONFLICT (project_id, day) DO UPDATE SET version = rollup_state.version + 1
""")

# A new time zone moves every local day: drop the rollups and mark each day that has events,
# in the new zone, to be built again (queries read the base tables until then).
DELETE_PROJECT_ROLLUPS = (text("DELETE FROM rollup_day WHERE project_id = :project_id"),
                          text("DELETE FROM rollup_state WHERE project_id = :project_id"))
MARK_EVENT_DAYS_STALE = text("""
INSERT INTO rollup_state (project_id, day, version, built_version)
SELECT CAST(:project_id AS varchar), d.day, 1, 0
FROM (SELECT DISTINCT CAST(timezone(CAST(:timezone AS text), ts) AS date) AS day
      FROM event WHERE project_id = :project_id) AS d
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

ARRAY_TYPES = {"count": "integer[]", "sum": "numeric[]", "union": "bytea[]"}
ROLLUP_COLUMNS = {m.column: ARRAY_TYPES[m.combine] for m in MEASURES}
INSERT_DAY_ROWS = text(f"""
INSERT INTO rollup_day (project_id, day, dimension, value, {", ".join(ROLLUP_COLUMNS)})
SELECT CAST(:project_id AS varchar), CAST(:day AS date), u.*
FROM unnest(CAST(:dimension AS text[]), CAST(:value AS text[]),
            {", ".join(f"CAST(:{name} AS {kind})" for name, kind in ROLLUP_COLUMNS.items())}) AS u
""")

"""SQL of the seeder: rows go in by COPY, sessions are built by the ingest's own statement.

The session statement is the ingest's INSERT_SESSIONS with the same column logic, changed only
in where its session keys come from (a temporary table filled by COPY instead of two bound
arrays) and in reading the events of the chunk's time window only, so that building the
sessions of one chunk costs the same however many events the project already has.
"""

from sqlalchemy import TextClause, text

from sightline.ingest import queries as ingest
from sightline.seed.traffic import ROW_COLUMNS

if ROW_COLUMNS != ("project_id", "session_key", *ingest.EVENT_COLUMNS):
    raise RuntimeError("seed rows no longer match the ingest's event columns")

LOCK_PROJECT = ingest.LOCK_PROJECT
EVENT_TABLE = "event"
# As ingest does, each event carries its visitor's number from the visitor table, registered
# just before (rollups.register_visitors) under the project lock.
COPY_COLUMNS = (*ROW_COLUMNS, "visitor_num")
SELECT_VISITOR_NUMBERS = text("""
SELECT visitor_key, num FROM visitor
WHERE project_id = :project_id AND visitor_key = ANY(CAST(:visitor_keys AS bigint[]))
""")
SEEDED_SESSIONS_TABLE = "seeded_session"

CREATE_SEEDED_SESSIONS = text(f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {SEEDED_SESSIONS_TABLE} (visitor_id text, session_key text)
ON COMMIT DROP
""")
CLEAR_SEEDED_SESSIONS = text(f"TRUNCATE {SEEDED_SESSIONS_TABLE}")
SORT_IN_MEMORY = text("SET LOCAL work_mem = '64MB'")

SEEDED_KEYS_CTE = (f"WITH k AS MATERIALIZED (SELECT CAST(:project_id AS varchar) AS project_id,"
                   f" visitor_id, session_key FROM {SEEDED_SESSIONS_TABLE})")
EVENTS = ingest.SESSION_EVENTS
EVENTS_IN_WINDOW = EVENTS.replace("AND session_key = k.session_key",
                                  "AND session_key = k.session_key AND ts BETWEEN :lo AND :hi")


def over_seeded_sessions(statement: TextClause) -> TextClause:
    """The ingest statement over the seeded keys and window; returns the count of its rows."""
    body = statement.text
    if not body.startswith(ingest.SESSION_KEYS_CTE) or body.count(EVENTS) != 1:
        raise RuntimeError("the ingest session statement changed shape; update seed/queries.py")
    body = body.removeprefix(ingest.SESSION_KEYS_CTE).replace(EVENTS, EVENTS_IN_WINDOW)
    return text(f"{SEEDED_KEYS_CTE}, changed AS ({body}) SELECT count(*) FROM changed")


# Seeded session ids are new (random, per visitor whose UUIDv7 id is new), so there is nothing
# to delete first; a collision would fail loudly on the session primary key.
INSERT_SESSIONS = over_seeded_sessions(ingest.INSERT_SESSIONS)

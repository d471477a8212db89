"""WAL positions, as bytes since 0/0 (integers compare where pg_lsn text does not)."""

from sqlalchemy import text

# On the primary after a commit: a position at or past that commit's record.
CURRENT_POSITION = text("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")

# On a replica: how far it has replayed (NULL when it is not in recovery: not a replica).
REPLAYED_POSITION = text(
    "SELECT CASE WHEN pg_is_in_recovery()"
    " THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END")

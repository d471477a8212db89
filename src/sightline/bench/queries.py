"""SQL of the benchmark's own bookkeeping, in the benchmark database only (not the app schema)."""

from sqlalchemy import text

CREATE_MANIFEST = text("""
CREATE TABLE IF NOT EXISTS bench_dataset (
    name text PRIMARY KEY, manifest jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
)""")
SELECT_MANIFEST = text("SELECT manifest FROM bench_dataset WHERE name = :name")
UPSERT_MANIFEST = text("""
INSERT INTO bench_dataset (name, manifest) VALUES (:name, CAST(:manifest AS jsonb))
ON CONFLICT (name) DO UPDATE SET manifest = EXCLUDED.manifest, created_at = now()
""")
DATABASE_EXISTS = text("SELECT 1 FROM pg_database WHERE datname = :name")
ANALYZE = text("ANALYZE")
COUNT_EVENTS = text("SELECT count(*) FROM event")
# The backends serving one database, for their CPU time (scenario 6).
BACKEND_PIDS = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
SERVER_VERSION = text("SHOW server_version")

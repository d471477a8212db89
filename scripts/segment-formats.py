"""Time DuckDB scans of one project's event segments written in each Parquet compression and as
an in-memory table (the table in docs/architecture.md, "The decision, with its numbers").

    .venv/bin/python scripts/segment-formats.py SEGMENTS_DIR/PROJECT_ID START END

START and END are UTC wall times ('2026-11-08 23:00:00'), the range the two questions read.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

QUESTIONS = {
    "page filter": "SELECT count(DISTINCT visitor_key), count(*) FILTER (WHERE name = 'pageview'), "
                   "sum(revenue) FROM {src} WHERE ts >= '{start}' AND ts < '{end}' "
                   "AND path = '/pricing'",
    "session filter": "SELECT count(DISTINCT visitor_key) FROM {src} "
                      "WHERE ts >= '{start}' AND ts < '{end}' AND s_country = 'DE'",
}
RUNS = 20


def timed(connection: duckdb.DuckDBPyConnection, source: str, start: str, end: str) -> list[float]:
    times = []
    for question in QUESTIONS.values():
        sql = question.format(src=source, start=start, end=end)
        connection.execute(sql).fetchall()  # warm the file cache
        began = time.perf_counter()
        for _ in range(RUNS):
            connection.execute(sql).fetchall()
        times.append((time.perf_counter() - began) / RUNS * 1000)
    return times


def main(project_dir: str, start: str, end: str) -> None:
    files = sorted(str(f) for f in Path(project_dir).glob("*/events.parquet"))
    listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    connection = duckdb.connect(config={"threads": 2, "memory_limit": "2GB"})
    print("format | " + " | ".join(QUESTIONS) + " | MB on disk")
    with tempfile.TemporaryDirectory() as scratch:
        for compression in ("zstd", "snappy", "lz4", "uncompressed"):
            target = os.path.join(scratch, f"{compression}.parquet")
            connection.execute(f"COPY (SELECT * FROM read_parquet({listed}) ORDER BY ts) TO "
                               f"'{target}' (FORMAT parquet, COMPRESSION {compression})")
            times = timed(connection, f"read_parquet('{target}')", start, end)
            print(f"{compression} | " + " | ".join(f"{t:.1f} ms" for t in times)
                  + f" | {os.path.getsize(target) / 1e6:.0f}")
    connection.execute(f"CREATE TABLE kept AS SELECT * FROM read_parquet({listed})")
    print("native table | " + " | ".join(f"{t:.1f} ms" for t in timed(connection, "kept", start, end))
          + " | (RAM)")


if __name__ == "__main__":
    main(*sys.argv[1:4])

"""The benchmark suite end to end on a tiny data set, so that it cannot rot (seconds, in CI).

Real everything: its own small database on the test PostgreSQL, the test Redis, real
`sightline serve` and `sightline worker` processes, the load generator in its own process.
"""

import os

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from sightline.bench.runner import ALL_SCENARIOS, Options, run_bench
from tests import services
from tests.conftest import RUN_ID


def free_port_pair() -> int:
    for _ in range(50):
        port = services.free_port()
        if port < 65000 and not services.listening("127.0.0.1", port + 1):
            return port
    raise RuntimeError("no two free ports")


async def drop_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def test_bench_suite_runs_every_scenario_on_a_tiny_dataset(redis_url, tmp_path):
    admin_url = make_url(services.admin_database_url()).set(drivername="postgresql+asyncpg")
    admin = admin_url.render_as_string(hide_password=False)
    # the run id too: other checkouts' test runs may share this PostgreSQL server
    database = f"sightline_bench_smoke_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{RUN_ID}"
    await drop_database(admin, database)
    options = Options(mode="smoke", workers=1, admin_url=admin, database=database,
                      redis_url=redis_url, port=free_port_pair(), output=tmp_path)
    try:
        bench = await run_bench(options, log=lambda line: None)
    finally:
        await drop_database(admin, database)

    scenarios = {row.scenario.split()[0] for row in bench.rows}
    assert scenarios == {"1", "2", "3", "3b", "4", "5", "6", "7", "8", "9"}, bench.rows
    assert len(ALL_SCENARIOS) == 10
    assert not [row for row in bench.rows if row.name == "failed"], bench.rows
    measured = [row for row in bench.rows if row.p50_ms is not None]
    assert all(row.p50_ms > 0 and row.rps > 0 for row in measured)
    assert bench.facts["floor_rps"] > 0 and bench.facts["ingest_events_per_second"] > 0
    warm = [row for row in bench.rows if row.scenario == "2 warm" and "hit_ratio" in row.extra]
    assert warm and all(row.extra["hit_ratio"] > 0.9 for row in warm)
    assert all("non-2xx" not in row.note for row in bench.rows
               if row.scenario in ("1 floor", "2 warm", "3 cold", "3b ad hoc", "7 ingest",
                                   "8 beacons", "9 fresh")), bench.rows

    report = (tmp_path / "benchmarks.md").read_text()
    assert "| 1 floor |" in report and "| 7 ingest |" in report
    assert (tmp_path / "bench-latency.png").stat().st_size > 1000

"""`sightline bench`: data, servers, scenarios, report, in that order; servers always stopped."""

import asyncio
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from sightline.bench import queries, scenarios
from sightline.bench.dataset import Project, catch_up_segments, database_url_for, ensure_dataset
from sightline.bench.report import write_report
from sightline.bench.servers import Server
from sightline.db import make_sessionmaker
from sightline.projects.service import create_project

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
RESULTS_DIR = "bench/.results"   # server logs (ignored by git)
ALL_SCENARIOS = ("floor", "ingest", "warm", "cold", "adhoc", "raw", "dashboard", "mix",
                 "beacons", "fresh")


@dataclass
class Options:
    mode: str = "full"                 # full, quick or smoke
    workers: int = 2
    admin_url: str = DEFAULT_ADMIN_URL  # any database on the server; the bench makes its own
    database: str | None = None
    redis_url: str = DEFAULT_REDIS_URL
    port: int = 8711
    output: Path | None = None          # default: docs/ for full runs, bench/.results/<mode>
    scenarios: tuple[str, ...] = ALL_SCENARIOS

    @property
    def database_name(self) -> str:
        return self.database or {"full": "sightline_bench"}.get(self.mode,
                                                                f"sightline_bench_{self.mode}")


def project_root() -> Path:
    """The checkout this package runs from (where docs/ lives), else the current directory."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").exists() else Path.cwd()


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    root = project_root()
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "unknown", ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
        "cores": os.cpu_count(), "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(), "commit": commit + (" (+ local changes)" if dirty
                                                                 else ""),
        "packages": ", ".join(f"{p} {version(p)}" for p in (
            "fastapi", "uvicorn", "sqlalchemy", "asyncpg", "redis", "orjson")),
        "wrk": shutil.which("wrk") is not None,
    }


async def redis_version(url: str) -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        return str((await client.info("server"))["redis_version"])
    finally:
        await client.aclose()


async def new_ingest_project(url: str) -> Project:
    """A fresh project per run for the ingest-throughput scenario (the dataset stays as seeded)."""
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            created = await create_project(db, f"bench-ingest-{int(time.time())}")
            await db.commit()
    finally:
        await engine.dispose()
    return Project(created.id, created.name, created.timezone, 0, 0, created.keys.model_dump(),
                   created.site_id)


def asyncpg_url(url: str) -> str:
    """postgresql://… or postgres://… as the asyncpg URL SQLAlchemy needs."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(
        hide_password=False)


async def run_bench(options: Options, log: Any = print) -> scenarios.Bench:
    started = time.perf_counter()
    options.admin_url = asyncpg_url(options.admin_url)
    dataset = await ensure_dataset(options.admin_url, options.database_name, options.mode, log)
    url = database_url_for(options.admin_url, options.database_name)
    data_dir = project_root() / RESULTS_DIR / "data" / options.database_name
    await catch_up_segments(url, dataset, data_dir, log)
    env = {"SIGHTLINE_DATABASE_URL": url, "SIGHTLINE_REDIS_URL": options.redis_url,
           "SIGHTLINE_DATA_DIR": str(data_dir),
           "SIGHTLINE_ENVIRONMENT": "development", "SIGHTLINE_LOG_JSON": "false",
           "SIGHTLINE_BENCH_ROUTES": "true",  # /bench/floor*: only in servers the bench starts
           # the load generator uses one key far beyond a client's fair rate
           "SIGHTLINE_RATE_LIMIT__REQUESTS_PER_SECOND": "1000000000",
           # beacons come from many visitors through a proxy on loopback (scenario 8)
           "SIGHTLINE_TRUSTED_PROXIES": "127.0.0.1"}
    logs = project_root() / RESULTS_DIR
    main = Server(options.port, options.workers, env, logs / "server.log")
    probe = Server(options.port + 1, 1, env, logs / "probe.log")
    worker = Server(0, 1, env, logs / "worker.log", kind="worker")
    engine = create_async_engine(url)
    bench = scenarios.Bench(dataset, main, probe, engine, scenarios.TIMINGS[options.mode], log,
                            worker=worker)
    bench.facts.update(machine_facts())
    bench.facts["redis"] = await redis_version(options.redis_url)
    async with engine.connect() as conn:
        bench.facts["postgresql"] = (await conn.execute(queries.SERVER_VERSION)).scalar()
    bench.facts["workers"] = options.workers
    bench.facts["mode"] = options.mode
    steps = {
        "floor": scenarios.floor, "warm": scenarios.warm, "cold": scenarios.cold,
        "adhoc": scenarios.adhoc,
        "raw": scenarios.raw, "dashboard": scenarios.dashboard, "mix": scenarios.mix,
    }
    try:
        log(f"starting {options.workers} server workers on 127.0.0.1:{options.port}, "
            f"a 1-worker probe on :{options.port + 1} and a background worker")
        await asyncio.gather(asyncio.to_thread(main.start), asyncio.to_thread(probe.start),
                             asyncio.to_thread(worker.start))
        measured = time.perf_counter()
        for name in options.scenarios:
            log(f"scenario {name}")
            try:
                if name == "ingest":
                    await scenarios.ingest(bench, await new_ingest_project(url))
                elif name == "beacons":
                    await scenarios.beacons(bench, await new_ingest_project(url))
                elif name == "fresh":
                    await scenarios.fresh(bench, await new_ingest_project(url))
                else:
                    await steps[name](bench)
            except Exception as error:  # noqa: BLE001 - one failed scenario is a row, not a crash
                bench.add(name, "failed", None, note=f"{type(error).__name__}: {error}"[:300])
        bench.facts["scenario_seconds"] = round(time.perf_counter() - measured)
    finally:
        for process in (main, probe, worker):
            process.stop()
        await engine.dispose()
    bench.facts["total_seconds"] = round(time.perf_counter() - started)
    output = options.output or (project_root() / "docs" if options.mode == "full"
                                else project_root() / RESULTS_DIR / options.mode)
    write_report(bench, output)
    log(f"wrote {output / 'benchmarks.md'} and {output / 'bench-latency.png'}")
    return bench

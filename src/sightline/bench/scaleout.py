"""`sightline bench --scale-out`: one and two API processes against a PostgreSQL primary and a
streaming replica of the benchmark's own (initdb and pg_basebackup on free ports), the cache in
Redis. Stats reads go to the replica (read-your-writes checked on each), writes to the primary.

Two read loads per server size, each a closed loop over the same 30-day reports: `cached`
(answered from Redis, the API processes' own cost) and `replica` (`Cache-Control: no-cache`:
every request is computed on the replica). Throughput and p95 for each, as a markdown table.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from sightline.bench.postgres import Postgres
from sightline.bench.servers import Server, run_load
from sightline.migrate import upgrade_to_head

REPORTS = ("overview", "pages", "sources", "timeseries")
DATABASE = "sightline_scaleout_bench"
CREATE_DATABASE = text(f'CREATE DATABASE "{DATABASE}"')


@dataclass
class ScaleOptions:
    redis_url: str
    port: int
    events: int = 200_000
    seconds: float = 15.0
    concurrency: int = 8


def sightline(env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).with_name("sightline")), *args]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                          check=True, timeout=1800)
    return done.stdout


async def create_database(primary: Postgres) -> None:
    engine = create_async_engine(primary.url(), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(CREATE_DATABASE)
    await engine.dispose()


def read_requests(project: dict[str, Any], fresh: bool) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    dates = f"date_from={today - timedelta(days=29)}&date_to={today}"
    headers = {"Authorization": f"Bearer {project['keys']['read']}"}
    if fresh:
        headers["Cache-Control"] = "no-cache"
    return [{"path": f"/api/v1/projects/{project['id']}/stats/{report}?{dates}", "tag": report,
             "headers": headers} for report in REPORTS]


def ingest_one(server: Server, project: dict[str, Any]) -> None:
    """One acknowledged batch, so the project has a recorded position (reads then check the
    replica against it instead of going to the primary)."""
    import urllib.request

    body = json.dumps([{"name": "pageview", "visitor_id": "bench", "path": "/scale-out"}])
    request = urllib.request.Request(
        server.base + "/api/v1/events", data=body.encode(), method="POST",
        headers={"Authorization": f"Bearer {project['keys']['ingest']}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202


async def measure(options: ScaleOptions, env: dict[str, str], project: dict[str, Any],
                  processes: int, logs: Path, log: Any) -> list[dict[str, Any]]:
    with socket.socket() as probe:  # a server already there would answer our readiness check
        if probe.connect_ex(("127.0.0.1", options.port)) == 0:
            raise RuntimeError(f"port {options.port} is in use; choose another with --port")
    server = Server(options.port, processes, env, logs / f"scale-out-{processes}.log")
    server.start()
    rows = []
    try:
        ingest_one(server, project)
        await run_load({"port": options.port, "requests": read_requests(project, False),
                        "mode": "sequential", "timeout": 120})  # the cached load starts warm
        for load, fresh in (("cached", False), ("replica", True)):
            result = await run_load({
                "port": options.port, "requests": read_requests(project, fresh),
                "mode": "closed", "concurrency": options.concurrency,
                "duration": options.seconds, "timeout": 120})
            overall = result["overall"]
            rows.append({"processes": processes, "load": load, "rps": overall["rps"],
                         "p50_ms": overall["p50_ms"], "p95_ms": overall["p95_ms"],
                         "statuses": overall["statuses"]})
            log(f"{processes} API process(es), {load}: {overall['rps']} req/s, "
                f"p95 {overall['p95_ms']} ms, statuses {overall['statuses']}")
    finally:
        server.stop()
    return rows


async def run_scale_out(options: ScaleOptions, logs: Path, log: Any = print
                        ) -> list[dict[str, Any]]:
    primary = replica = None
    try:
        log("starting a PostgreSQL primary of our own")
        primary = await asyncio.to_thread(Postgres.primary)
        await create_database(primary)
        url = primary.url(DATABASE)
        await asyncio.to_thread(upgrade_to_head, url)
        env = {"SIGHTLINE_DATABASE_URL": url, "SIGHTLINE_REDIS_URL": options.redis_url,
               "SIGHTLINE_ENVIRONMENT": "development", "SIGHTLINE_LOG_JSON": "false",
               "SIGHTLINE_CACHE__KEY_PREFIX": f"scale-{uuid.uuid4().hex[:8]}:",
               # a shared, busy machine: Redis answers slower than the 50 ms default allows
               "SIGHTLINE_CACHE__SOCKET_TIMEOUT": "0.5",
               "SIGHTLINE_RATE_LIMIT__REQUESTS_PER_SECOND": "1000000000",
               "SIGHTLINE_RATE_LIMIT__BURST": "1000000000"}
        project = json.loads(sightline(env, "project", "create", "--name", "scale-out", "--json"))
        started = time.perf_counter()
        sightline(env, "seed", "--project", project["id"], "--events", str(options.events))
        log(f"seeded {options.events} events in {time.perf_counter() - started:.0f} s")
        log("making a streaming replica (pg_basebackup)")
        replica = await asyncio.to_thread(primary.replica)
        env["SIGHTLINE_DATABASE_READ_URLS"] = replica.url(DATABASE)
        rows = []
        for processes in (1, 2):
            rows += await measure(options, env, project, processes, logs, log)
        return rows
    finally:
        for server in (replica, primary):
            if server is not None:
                server.remove()


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| API processes | reads | req/s | p50 ms | p95 ms | statuses |",
             "|---:|---|---:|---:|---:|---|"]
    lines += [f"| {r['processes']} | {r['load']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} "
              f"| {r['statuses']} |" for r in rows]
    return "\n".join(lines) + "\n"

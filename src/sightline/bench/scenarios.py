"""The seven scenarios of the benchmark; each adds rows to one results table.

Every HTTP load runs in a separate load-generator process against real `sightline serve`
processes. Database queries per request are read from a one-worker probe server's /metrics
(each worker counts its own), with the same requests sent once more to it.
"""

import asyncio
import json
import os
import random
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from sightline.bench import queries
from sightline.bench.dataset import Dataset, Project
from sightline.bench.raw_queries import RAW_QUERIES
from sightline.bench.servers import Server, cpu_of, run_load
from sightline.seed.traffic import ROW_COLUMNS, Traffic, as_api_event

# The twenty dashboard endpoints of SPEC section 4, with the parameters they are read with.
ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("overview", ""), ("timeseries", "metrics=visitors,pageviews&interval=day"),
    ("pages", ""), ("entry-pages", ""), ("exit-pages", ""), ("sources", ""),
    ("referrers", "source=google.com"), ("utm/utm_source", ""), ("countries", ""),
    ("devices", ""), ("browsers", ""), ("os", ""), ("events", ""), ("properties/plan", ""),
    ("goals", ""), ("funnel", "step=page:/&step=page:/pricing&step=event:signup&window=1d"),
    ("retention", "interval=week&periods=4"), ("active-users", ""), ("realtime", ""),
    ("revenue", ""),
)
NO_RANGE = frozenset({"realtime"})

# Filtered and ad-hoc questions the rollups cannot answer (issue targets: p95 <= 100 ms over 30
# days, <= 400 ms over 12 months): (name, report, parameters, days; 0 = both 30 and 365).
FUNNEL_8 = "&".join(f"step={s}" for s in (
    "page:/", "page:/features", "page:/pricing", "page:/signup", "event:signup",
    "event:trial_started", "page:/checkout", "event:purchase"))
ADHOC: tuple[tuple[str, str, str, int], ...] = (
    ("overview country", "overview", "filters=country==DE", 0),
    ("overview page", "overview", "filters=page==/pricing", 0),
    ("overview property", "overview", "filters=prop:plan==pro", 0),
    ("overview 3 filters", "overview", "filters=country==DE|US;device==desktop;page=@blog", 0),
    ("pages by source", "pages", "filters=source==google.com", 0),
    ("countries by device", "countries", "filters=device==mobile", 0),
    ("sources by page", "sources", "filters=page==/pricing", 0),
    ("events by country", "events", "filters=country==US", 0),
    ("breakdown property", "breakdown", "dimension=prop:plan&metrics=visitors,events"
                                        "&filters=country==DE", 0),
    ("timeseries 7d by hour", "timeseries", "interval=hour&metrics=visitors,pageviews", 7),
    ("timeseries other zone", "timeseries", "tz=America/New_York&metrics=visitors,visits", 0),
    ("funnel 3 steps", "funnel", "step=page:/&step=page:/pricing&step=event:signup&window=1d", 0),
    ("funnel 8 steps", "funnel", FUNNEL_8 + "&window=7d", 0),
    ("retention filtered", "retention", "interval=week&periods=4&filters=device==mobile", 0),
    ("active-users filtered", "active-users", "filters=country==DE", 0),
)
DASHBOARD_WIDGETS = (
    ("Overview", {"report": "overview"}),
    ("Visitors", {"report": "timeseries", "metrics": ["visitors", "pageviews"]}),
    ("Top pages", {"report": "pages", "limit": 10}),
    ("Sources", {"report": "sources", "limit": 10}),
    ("Countries", {"report": "countries", "limit": 10}),
    ("Devices", {"report": "devices"}),
    ("Browsers", {"report": "browsers", "limit": 10}),
    ("Entry pages", {"report": "entry-pages", "limit": 10}),
    ("Events", {"report": "events"}),
    ("Goals", {"report": "goals"}),
    ("Revenue", {"report": "revenue"}),
    ("Campaigns", {"report": "utm/utm_campaign", "limit": 10}),
)
MIX_FILTERS = ("country==US", "country==DE|FR", "device==mobile", "source==google.com",
               "source==newsletter", "browser==Safari", "os!=Windows", "page==/pricing",
               "event==signup", "utm_campaign==weekly-digest", "entry_page=@blog")
METRIC_LINE = re.compile(r'^sightline_db_queries_per_request_(sum|count)\{route="([^"]*)"\} (\S+)$')


@dataclass(frozen=True)
class Timing:
    """How long each step runs: full, quick (development) or smoke (CI)."""

    load_seconds: float
    warm_seconds: float
    cold_repeat: int
    mix_seconds: float
    ingest_seconds: float
    concurrency: int = 64
    endpoints: int = len(ENDPOINTS)   # the first n endpoints (smoke: a few)
    adhoc: int = len(ADHOC)   # the first n ad-hoc questions
    fresh_events: int = 300_000  # ingested into a new project before scenario 9 reads it
    mix_rate: int = 50  # requests/s of the mix, open loop (the target rate)


TIMINGS = {
    "full": Timing(load_seconds=6, warm_seconds=4, cold_repeat=5, mix_seconds=60,
                   ingest_seconds=20),
    "quick": Timing(load_seconds=1.5, warm_seconds=1, cold_repeat=2, mix_seconds=10,
                    ingest_seconds=5, fresh_events=30_000),
    "smoke": Timing(load_seconds=0.3, warm_seconds=0.2, cold_repeat=1, mix_seconds=1,
                    ingest_seconds=0.5, concurrency=8, endpoints=3, adhoc=2, fresh_events=2000,
                    mix_rate=5),
}


@dataclass
class Row:
    scenario: str
    name: str
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rps: float | None = None
    queries: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Bench:
    dataset: Dataset
    main: Server
    probe: Server
    engine: AsyncEngine
    timing: Timing
    log: Any = print
    worker: Server | None = None
    rows: list[Row] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    # -- ranges and requests -------------------------------------------------------------

    @property
    def endpoints(self) -> tuple[tuple[str, str], ...]:
        return ENDPOINTS[:self.timing.endpoints]

    @property
    def project(self) -> Project:
        return self.dataset.largest

    def range_days(self, days: int = 30) -> tuple[date, date]:
        end = datetime.fromisoformat(self.dataset.end).astimezone(ZoneInfo(self.project.timezone))
        return end.date() - timedelta(days=days - 1), end.date()

    def stats_path(self, report: str, params: str, days: int = 30,
                   first: date | None = None, last: date | None = None,
                   project: Project | None = None) -> str:
        base = f"/api/v1/projects/{(project or self.project).id}/stats/{report}"
        if report not in NO_RANGE:
            if first is None or last is None:
                first, last = self.range_days(days)
            params = "&".join(p for p in (f"date_from={first}&date_to={last}", params) if p)
        return f"{base}?{params}" if params else base

    def read(self, path: str, tag: str, cold: bool = False,
             project: Project | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {(project or self.project).keys['read']}"}
        if cold:
            headers["Cache-Control"] = "no-cache"
        return {"path": path, "tag": tag, "headers": headers}

    def fetch(self, server: Server, request: dict[str, Any]) -> tuple[int, bytes]:
        """One request from this process (priming, availability checks, set-up)."""
        data = request.get("body")
        http = urllib.request.Request(server.base + request["path"], method=request.get(
            "method", "GET"), headers={**request.get("headers", {}),
                                       "Content-Type": "application/json"},
            data=data.encode() if isinstance(data, str) else data)
        try:
            with urllib.request.urlopen(http, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    async def load(self, requests: list[dict[str, Any]], server: Server | None = None,
                   **job: Any) -> dict[str, Any]:
        server = server or self.main
        job = {"port": server.port, "requests": requests, "timeout": 120, **job}
        cpu = server.cpu()
        result = await run_load(job)
        result["mode"] = job.get("mode", "closed")
        result["server_cpu_seconds"] = round(server.cpu() - cpu, 3)
        return result

    def probe_queries(self, requests: list[dict[str, Any]], prime: bool = False) -> float | None:
        """Mean database statements per request, counted by the probe server's /metrics."""
        if prime:
            for request in requests:
                self.fetch(self.probe, request)
        before = self.query_counts()
        for request in requests:
            self.fetch(self.probe, request)
        after = self.query_counts()
        count = after[1] - before[1]
        return round((after[0] - before[0]) / count, 2) if count else None

    def query_counts(self) -> tuple[float, float]:
        _, body = self.fetch(self.probe, {"path": "/metrics"})
        total = count = 0.0
        for line in body.decode().splitlines():
            match = METRIC_LINE.match(line)
            if match and match.group(2) != "/metrics":
                if match.group(1) == "sum":
                    total += float(match.group(3))
                else:
                    count += float(match.group(3))
        return total, count

    def add(self, scenario: str, name: str, result: dict[str, Any] | None,
            queries_per_request: float | None = None, note: str = "",
            **extra: Any) -> Row:
        row = Row(scenario, name, queries=queries_per_request, note=note, extra=extra)
        if result is not None:
            row.extra.setdefault("kind", result.get("mode", "closed"))
            overall = result["overall"] if "overall" in result else result
            row.p50_ms, row.p95_ms, row.p99_ms = (overall["p50_ms"], overall["p95_ms"],
                                                  overall["p99_ms"])
            row.rps = overall["rps"]
            bad = {k: v for k, v in overall.get("statuses", {}).items() if not k.startswith("2")}
            if bad or overall.get("errors"):
                row.note = (row.note + f" non-2xx {bad} errors {overall.get('errors', 0)}").strip()
        self.rows.append(row)
        self.log(f"  {scenario:10} {name:34} p50 {row.p50_ms} p95 {row.p95_ms} p99 {row.p99_ms}"
                 f" rps {row.rps} q/req {row.queries} {row.note}")
        return row

    def available(self, request: dict[str, Any]) -> bool:
        status, body = self.fetch(self.main, request)
        if status == 404:
            return False
        if status >= 400:
            raise RuntimeError(f"{request['path']} answered {status}: {body[:300]!r}")
        return True


# -- 1. floor --------------------------------------------------------------------------------

async def floor(bench: Bench) -> None:
    t = bench.timing
    for name, path in (("fixed bytes", "/bench/floor"), ("fixed bytes from Redis",
                                                         "/bench/floor-redis")):
        request = {"path": path, "tag": name}
        if not bench.available(request):
            bench.add("1 floor", name, None, note="route not available")
            continue
        result = await bench.load([request], mode="closed", concurrency=t.concurrency,
                                  duration=t.load_seconds)
        seconds = result["seconds"]
        bench.add("1 floor", f"{name}, {t.concurrency} in flight", result,
                  bench.probe_queries([request]),
                  loadgen_cpu=round(result["cpu_seconds"] / seconds, 2),
                  server_cpu=round(result["server_cpu_seconds"] / seconds, 2))
        if path == "/bench/floor":
            bench.facts["floor_rps"] = result["overall"]["rps"]
            bench.facts["loadgen_cpu_per_s"] = round(result["cpu_seconds"] / seconds, 2)
            bench.facts["server_cpu_per_s"] = round(result["server_cpu_seconds"] / seconds, 2)
            bench.facts["loadgen_us_per_request"] = round(
                1e6 * result["cpu_seconds"] / max(1, result["overall"]["count"]), 1)
            if shutil.which("wrk"):
                measured = await wrk(bench.main.base + path, t.concurrency, t.load_seconds)
                bench.facts["wrk_floor_rps"] = measured["rps"]
                bench.add("1 floor", f"{name}, wrk -t1 -c{t.concurrency} (comparison)",
                          measured)
        rate = max(10, round(result["overall"]["rps"] / 2))
        fixed = await bench.load([request], mode="open", rate=rate, duration=t.load_seconds)
        bench.add("1 floor", f"{name}, open loop {rate}/s", fixed)
        one = await bench.load([request], mode="sequential", repeat=max(20, 50 * t.cold_repeat))
        bench.add("1 floor", f"{name}, sequential", one)


WRK_PERCENTILE = re.compile(r"^\s*(50|95|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
WRK_SCRIPT = "done = function(summary, latency, requests)\n  for _, p in pairs({50, 95, 99}) do\n" \
    "    io.write(string.format('%g%%  %.3fms\\n', p, latency:percentile(p) / 1000))\n" \
    "  end\nend\n"


async def wrk(url: str, connections: int, seconds: float) -> dict[str, Any]:
    """The same closed-loop load from wrk, when installed, to show the generator keeps up."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        process = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s",
            script.name, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), seconds + 30)
    finally:
        os.unlink(script.name)
    text = out.decode()
    found = {p: float(v) * UNIT_MS[u] for p, v, u in WRK_PERCENTILE.findall(text)}
    rate = WRK_RATE.search(text)
    return {"p50_ms": found.get("50"), "p95_ms": found.get("95"), "p99_ms": found.get("99"),
            "rps": float(rate.group(1)) if rate else None}


# -- 2. warm endpoints -----------------------------------------------------------------------

async def warm(bench: Bench) -> None:
    t = bench.timing
    requests = []
    for report, params in bench.endpoints:
        request = bench.read(bench.stats_path(report, params), report)
        if not bench.available(request):   # this first request also fills the cache
            bench.add("2 warm", report, None, note="route not available")
            continue
        result = await bench.load([request], mode="closed", concurrency=t.concurrency,
                                  duration=t.warm_seconds)
        cache = result["overall"]["cache"]
        hits = cache.get("HIT", 0) / max(1, sum(cache.values()))
        one = await bench.load([request], mode="sequential", repeat=4 * t.cold_repeat)
        bench.add("2 warm", report, result, bench.probe_queries([request], prime=True),
                  note=f"one at a time: p50 {one['overall']['p50_ms']:.2f}",
                  hit_ratio=round(hits, 3), sequential_p50_ms=one["overall"]["p50_ms"])
        requests.append(request)
    if requests:
        rates = [r.rps for r in bench.rows if r.scenario == "2 warm" and r.rps]
        rate = max(10, round(sorted(rates)[len(rates) // 2] / 2))
        result = await bench.load(requests, mode="open", rate=rate,
                                  duration=max(t.warm_seconds * 2, t.load_seconds))
        bench.add("2 warm", f"all endpoints, open loop {rate}/s", result)


# -- 3. cold endpoints and 4. the raw path ---------------------------------------------------

async def cold(bench: Bench) -> None:
    t = bench.timing
    for report, params in bench.endpoints:
        request = bench.read(bench.stats_path(report, params), report, cold=True)
        if not bench.available(request):
            bench.add("3 cold", report, None, note="route not available")
            continue
        result = await bench.load([request], mode="sequential", repeat=t.cold_repeat)
        bench.add("3 cold", report, result, bench.probe_queries([request]),
                  db_ms=result["overall"]["db_ms_per_request"])


async def adhoc(bench: Bench) -> None:
    t = bench.timing
    for name, report, params, days in ADHOC[:t.adhoc]:
        for span in ([days] if days else [30, 365]):
            path = bench.stats_path(report, quote(params, safe="=&,:/"), span)
            request = bench.read(path, report, cold=True)
            result = await bench.load([request], mode="sequential", repeat=t.cold_repeat)
            bench.add("3b ad hoc", f"{name} {span}d", result, bench.probe_queries([request]),
                      db_ms=result["overall"]["db_ms_per_request"])


async def raw(bench: Bench) -> None:
    first, last = bench.range_days(30)
    zone = ZoneInfo(bench.project.timezone)
    params = {"project_id": bench.project.id, "tz": bench.project.timezone,
              "lo": datetime.combine(first, datetime.min.time(), zone),
              "hi": datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)}
    wanted = {report for report, _ in bench.endpoints}
    for report, statement in RAW_QUERIES.items():
        if report not in wanted:
            continue
        times = []
        async with bench.engine.connect() as conn:
            for _ in range(min(3, bench.timing.cold_repeat)):
                started = time.perf_counter()
                await conn.execute(statement, params)
                times.append(1000 * (time.perf_counter() - started))
        times.sort()
        p50 = times[(len(times) - 1) // 2]
        bench.add("4 raw", report, {"p50_ms": round(p50, 3), "p95_ms": round(times[-1], 3),
                                    "p99_ms": round(times[-1], 3),
                                    "rps": round(1000 / (sum(times) / len(times)), 1),
                                    "mode": "sequential"}, 1, note="SQL only, no HTTP")


# -- 5. dashboard ----------------------------------------------------------------------------

async def dashboard(bench: Bench) -> None:
    t = bench.timing
    admin = {"Authorization": f"Bearer {bench.project.keys['admin']}"}
    body = json.dumps({"name": "Benchmark", "widgets": [
        {"title": title, "query": query} for title, query in DASHBOARD_WIDGETS]})
    status, answer = bench.fetch(bench.main, {
        "path": f"/api/v1/projects/{bench.project.id}/dashboards", "method": "POST",
        "headers": admin, "body": body})
    if status == 404 or status == 405:
        bench.add("5 dashboard", "12 widgets", None, note="route not available")
        return
    if status != 201:
        raise RuntimeError(f"dashboard creation answered {status}: {answer[:300]!r}")
    first, last = bench.range_days(30)
    path = (f"/api/v1/projects/{bench.project.id}/dashboards/{json.loads(answer)['id']}"
            f"?date_from={first}&date_to={last}")
    warm_request = bench.read(path, "dashboard")
    bench.fetch(bench.main, warm_request)
    result = await bench.load([warm_request], mode="closed", concurrency=t.concurrency,
                              duration=t.warm_seconds)
    bench.add("5 dashboard", f"12 widgets, warm, {t.concurrency} in flight", result,
              bench.probe_queries([warm_request], prime=True))
    cold_request = bench.read(path, "dashboard", cold=True)
    result = await bench.load([cold_request], mode="sequential", repeat=t.cold_repeat)
    bench.add("5 dashboard", "12 widgets, cold", result, bench.probe_queries([cold_request]),
              db_ms=result["overall"]["db_ms_per_request"])


# -- 6. realistic mix with ingest ------------------------------------------------------------

def mix_requests(bench: Bench, count: int, seed: int = 6) -> list[dict[str, Any]]:
    """90% repeated queries, 10% new ranges and filters. The repeated ones are a fixed popular
    set: every endpoint over the last 30 and 7 days (ranges that today's ingest changes) and
    over the 30 and 7 days before those (ranges it cannot change)."""
    rng = random.Random(seed)
    first, last = bench.range_days(30)
    week = last - timedelta(days=6)
    ranges = ((first, last), (week, last), (first - timedelta(days=30), first - timedelta(days=1)),
              (week - timedelta(days=7), week - timedelta(days=1)))
    popular = [bench.read(bench.stats_path(report, params, first=a, last=b),
                          "repeated, range with today" if b == last else "repeated, past range")
               for a, b in ranges for report, params in bench.endpoints
               if report not in NO_RANGE]
    requests = []
    for _ in range(count):
        if rng.random() < 0.9:
            requests.append(popular[rng.randrange(len(popular))])
            continue
        report, params = rng.choice([e for e in bench.endpoints if e[0] not in NO_RANGE])
        end = last - timedelta(days=rng.randrange(60))
        start = end - timedelta(days=rng.choice((0, 1, 6, 13, 29, 59)))
        filters = "" if rng.random() < 0.3 or report in ("funnel", "retention", "active-users") \
            else "filters=" + quote(rng.choice(MIX_FILTERS), safe="")
        extra = "&".join(p for p in (params, filters) if p)
        requests.append(bench.read(bench.stats_path(report, extra, first=start, last=end),
                                   "new"))
    return requests


def ingest_batches(project: Project, events: int, per_batch: int, seed: int) -> list[str]:
    """Batches of realistic events of the last minutes, as POST /api/v1/events bodies; each
    holds the marker @@N@@ in its ids, which the load generator makes unique per request."""
    end = datetime.now(ZoneInfo("UTC")) - timedelta(seconds=5)
    traffic = Traffic(project.id, events, 1, seed, end)
    rows = [dict(zip(ROW_COLUMNS, row, strict=True))
            for chunk in traffic.chunks(per_batch * 4) for row in chunk.rows]
    cutoff = end - timedelta(minutes=30)
    batches = []
    for start in range(0, len(rows), per_batch):
        batch = []
        for row in rows[start:start + per_batch]:
            event = as_api_event(row)
            event["timestamp"] = max(row["ts"], cutoff).isoformat()
            event["visitor_id"] = "@@N@@-" + event["visitor_id"]
            event["session_id"] = "@@N@@-" + event["session_id"]
            batch.append(event)
        if len(batch) == per_batch:
            batches.append(json.dumps(batch))
    return batches


def ingest_request(project: Project, body: str) -> dict[str, Any]:
    return {"path": "/api/v1/events", "method": "POST", "tag": "ingest", "body": body,
            "headers": {"Authorization": f"Bearer {project.keys['ingest']}"}, "unique": True}


async def database_cpu(bench: Bench) -> dict[int, float]:
    """CPU seconds so far of each backend serving the benchmark database."""
    async with bench.engine.connect() as conn:
        pids = (await conn.execute(queries.BACKEND_PIDS)).scalars().all()
    return {pid: cpu_of(pid) for pid in pids}


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """Backends that ended in between are not counted (the servers keep theirs open)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


async def mix(bench: Bench) -> None:
    t = bench.timing
    rate = t.mix_rate
    requests = mix_requests(bench, max(1, int(rate * t.mix_seconds)))
    for request in {r["path"]: r for r in requests if r["tag"] != "new"}.values():
        bench.fetch(bench.main, request)   # the repeated queries are the warm ones
    per_batch = 250
    ingest_rate = 1000 / per_batch
    batches = ingest_batches(bench.project, per_batch * 20, per_batch, seed=61)
    worker_cpu = bench.worker.cpu() if bench.worker else 0.0
    db_cpu, server_cpu = await database_cpu(bench), bench.main.cpu()
    started = time.perf_counter()
    reads, writes = await asyncio.gather(
        bench.load(requests, mode="open", rate=rate, duration=t.mix_seconds),
        run_load({"port": bench.main.port, "mode": "open", "rate": ingest_rate,
                  "duration": t.mix_seconds, "timeout": 120,
                  "requests": [ingest_request(bench.project, b) for b in batches]}))
    seconds = time.perf_counter() - started
    db_cpu = cpu_since(db_cpu, await database_cpu(bench))
    server_cpu = bench.main.cpu() - server_cpu
    worker_cpu = (bench.worker.cpu() if bench.worker else 0.0) - worker_cpu
    cache = reads["overall"]["cache"]
    hit_ratio = round((cache.get("HIT", 0) + cache.get("STALE", 0)) / max(1, sum(cache.values())), 3)
    ingested = writes["overall"]["count"] * per_batch
    note = (f"hit ratio {hit_ratio:.1%}; ingest {ingested / seconds:,.0f} events/s alongside; "
            f"CPU: database {db_cpu:.1f} s, API servers {server_cpu:.1f} s, rollup worker "
            f"{worker_cpu:.1f} s, in {seconds:.0f} s")
    bench.add("6 mix", f"90% repeated / 10% new, open loop {rate}/s", reads, note=note,
              hit_ratio=hit_ratio, database_cpu_seconds=round(db_cpu, 2),
              server_cpu_seconds=round(server_cpu, 2), seconds=round(seconds, 1),
              ingest_events_per_second=round(ingested / seconds))
    for tag in ("repeated, range with today", "repeated, past range", "new"):
        if tag in reads["tags"]:
            part = reads["tags"][tag]
            counts = part["cache"]
            bench.add("6 mix", f"  {tag}", part,
                      note=f"hit ratio {counts.get('HIT', 0) / max(1, sum(counts.values())):.0%}")
    bench.add("6 mix", f"  ingest, {per_batch} events per batch, {ingest_rate:g}/s", writes)


# -- 7. ingest throughput --------------------------------------------------------------------

async def ingest(bench: Bench, project: Project) -> None:
    t = bench.timing
    batches = ingest_batches(project, 1000 * 12, 1000, seed=71)
    requests = [ingest_request(project, body) for body in batches]
    concurrency = 4 if t.concurrency >= 64 else 2
    result = await bench.load(requests, mode="closed", concurrency=concurrency,
                              duration=t.ingest_seconds)
    events_per_second = round(result["overall"]["rps"] * 1000)
    bench.facts["ingest_events_per_second"] = events_per_second
    bench.add("7 ingest", f"batches of 1,000 events, {concurrency} in flight", result,
              bench.probe_queries(requests[:1]),
              note=f"{events_per_second:,} events/s", events_per_second=events_per_second,
              kind=f"closed, {concurrency} in flight")  # no floor at that concurrency


# -- 8. browser beacons ----------------------------------------------------------------------

BEACON_TARGET_RATE = 5000   # single-event beacons per second (issue 11), p95 ≤ 50 ms
BEACON_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
BEACON_PATHS = ("/", "/pricing", "/blog/launch", "/docs/start", "/signup", "/about")


def beacon_requests(site_id: str, count: int, seed: int = 81) -> list[dict[str, Any]]:
    """Page views from `count` visitors (address and user agent) behind a trusted proxy."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        address = ".".join(str(rng.randint(1, 223 if i == 0 else 254)) for i in range(4))
        body = json.dumps({"site_id": site_id, "name": "pageview",
                           "url": f"https://shop.example{rng.choice(BEACON_PATHS)}",
                           "referrer": rng.choice((None, "https://www.google.com/"))})
        requests.append({"path": "/api/v1/collect", "method": "POST", "tag": "beacon",
                         "body": body, "headers": {
                             "User-Agent": rng.choice(BEACON_AGENTS), "X-Forwarded-For": address,
                             "Origin": "https://shop.example"}})
    return requests


async def beacons(bench: Bench, project: Project) -> None:
    """Single-event beacons (POST /api/v1/collect): the most in flight, then the target rate
    in an open loop (latency from the scheduled instant); each 202 comes after its commit."""
    t = bench.timing
    requests = beacon_requests(project.site_id, 2000)
    closed = await bench.load(requests, mode="closed", concurrency=t.concurrency,
                              duration=t.ingest_seconds)
    bench.add("8 beacons", f"single-event beacons, {t.concurrency} in flight", closed,
              bench.probe_queries(requests[:1]), beacons_per_second=closed["overall"]["rps"])
    rate = BEACON_TARGET_RATE if t.concurrency >= 64 else 100
    opened = await bench.load(requests, mode="open", rate=rate, duration=t.ingest_seconds)
    bench.facts["beacons_per_second"] = closed["overall"]["rps"]
    bench.add("8 beacons", f"  open loop {rate:,}/s (target p95 ≤ 50 ms)", opened)


# -- 9. a fresh project ----------------------------------------------------------------------

async def fresh(bench: Bench, project: Project) -> None:
    """A new project right after its first events: `fresh_events` events over 30 days, sent
    through the API in shuffled batches of 1,000 while no worker runs (no rollups, no segments,
    no statistics of the new project: the planner sees it as absent), then every endpoint
    once, uncached (target: each ≤ 1 s, none fails). The worker is started again afterwards."""
    t = bench.timing
    end = datetime.now(ZoneInfo("UTC")) - timedelta(minutes=1)
    traffic = Traffic(project.id, t.fresh_events, 30, 91, end)
    events = [as_api_event(dict(zip(ROW_COLUMNS, row, strict=True)))
              for chunk in traffic.chunks() for row in chunk.rows]
    random.Random(92).shuffle(events)
    batches = [{"path": "/api/v1/events", "method": "POST", "tag": "ingest",
                "body": json.dumps(events[i:i + 1000]),
                "headers": {"Authorization": f"Bearer {project.keys['ingest']}"}}
               for i in range(0, len(events), 1000)]
    if bench.worker is not None:
        bench.worker.stop()
    try:
        sent = await bench.load(batches, mode="closed", concurrency=4, duration=600,
                                max_requests=len(batches))
        bench.add("9 fresh", f"ingest {len(events):,} events, 4 batches in flight", sent,
                  note=f"{len(events) / sent['seconds']:,.0f} events/s")
        first, last = bench.range_days(30)
        for report, params in bench.endpoints:
            path = bench.stats_path(report, params, first=first, last=last, project=project)
            result = await bench.load([bench.read(path, report, cold=True, project=project)],
                                      mode="sequential", repeat=1)
            bench.add("9 fresh", report, result, db_ms=result["overall"]["db_ms_per_request"])
    finally:
        if bench.worker is not None:
            bench.worker.start()

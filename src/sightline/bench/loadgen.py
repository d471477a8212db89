"""An HTTP/1.1 load generator on raw asyncio streams (uvloop), run in its own process.

`python -m sightline.bench.loadgen` reads a job (JSON) on stdin and writes its result (JSON) on
stdout. Three modes:
- `closed`: `concurrency` keep-alive connections, each sending its next request as soon as the
  previous answer arrived (full throughput);
- `open`: requests scheduled at a fixed `rate` whatever the answers do, latency measured from the
  scheduled instant, so a stalled server shows in p95/p99 (no coordinated omission);
- `sequential`: one connection, each request once (`repeat` times), for cold queries.
Loopback only; every loop is bounded by `duration` or by the number of requests.
"""

import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

MAX_OPEN_CONNECTIONS = 512
PREOPENED_CONNECTIONS = 64
LOOPBACK = ("127.0.0.1", "localhost", "::1")


UNIQUE_MARK = b"@@N@@"


@dataclass
class Template:
    """One request, encoded once; `unique` ones get UNIQUE_MARK replaced per request."""

    tag: str
    raw: bytes
    head: bytes = b""
    body: bytes = b""
    unique: bool = False
    sent: int = 0

    def encoded(self, run: str) -> bytes:
        if not self.unique:
            return self.raw
        self.sent += 1
        body = self.body.replace(UNIQUE_MARK, f"{run}-{self.sent}".encode())
        return self.head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)
    db_ms: float = 0.0
    errors: int = 0

    def add(self, latency: float, status: int, headers: dict[bytes, bytes]) -> None:
        self.latencies.append(latency)
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        cache = headers.get(b"x-cache")
        if cache:
            name = cache.decode()
            self.cache[name] = self.cache.get(name, 0) + 1
        self.db_ms += server_db_ms(headers.get(b"server-timing"))


def server_db_ms(header: bytes | None) -> float:
    """The `db;dur=` part of a Server-Timing header, in milliseconds."""
    if not header:
        return 0.0
    for part in header.decode().split(","):
        name, _, rest = part.strip().partition(";")
        if name == "db" and rest.startswith("dur="):
            try:
                return float(rest[4:])
            except ValueError:
                return 0.0
    return 0.0


def encode(request: dict[str, Any], host: str) -> Template:
    body = request.get("body")
    data = body.encode() if isinstance(body, str) else (body or b"")
    lines = [f"{request.get('method', 'GET')} {request['path']} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (request.get("headers") or {}).items()]
    if data or request.get("method", "GET") != "GET":
        lines.append("Content-Type: application/json")
        head = ("\r\n".join(lines) + "\r\n").encode()
        raw = head + f"Content-Length: {len(data)}\r\n\r\n".encode() + data
    else:
        head = ("\r\n".join(lines) + "\r\n").encode()
        raw = head + b"\r\n"
    return Template(request.get("tag", request["path"]), raw, head, data,
                    bool(request.get("unique")))


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def send(self, raw: bytes) -> tuple[int, dict[bytes, bytes]]:
        if self.writer is None:
            await self.connect()
        reader = self.reader
        assert reader is not None
        self.writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            await reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            while (size := int((await reader.readline()).strip().split(b";")[0], 16)) > 0:
                await reader.readexactly(size + 2)
            await reader.readline()
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Run:
    def __init__(self, job: dict[str, Any]):
        self.host = job.get("host", "127.0.0.1")
        if self.host not in LOOPBACK:
            raise ValueError("the load generator only targets loopback addresses")
        self.port = int(job["port"])
        self.templates = [encode(r, self.host) for r in job["requests"]]
        if job.get("shuffle"):
            random.Random(job.get("seed", 1)).shuffle(self.templates)
        self.samples: dict[str, Sample] = {}
        self.next_index = 0
        self.timeout = float(job.get("timeout", 30))
        self.run_id = f"{time.time_ns():x}"

    def next_template(self) -> Template:
        template = self.templates[self.next_index % len(self.templates)]
        self.next_index += 1
        return template

    async def one(self, conn: Connection, template: Template, scheduled: float) -> None:
        sample = self.samples.setdefault(template.tag, Sample())
        try:
            status, headers = await asyncio.wait_for(conn.send(template.encoded(self.run_id)),
                                                     self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            conn.close()
            sample.errors += 1
            return
        sample.add(time.perf_counter() - scheduled, status, headers)

    async def closed(self, concurrency: int, duration: float, limit: int | None) -> None:
        deadline = time.perf_counter() + duration
        budget = limit if limit is not None else sys.maxsize

        async def worker() -> None:
            nonlocal budget
            conn = Connection(self.host, self.port)
            while time.perf_counter() < deadline and budget > 0:
                budget -= 1
                await self.one(conn, self.next_template(), time.perf_counter())
            conn.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def open(self, rate: float, duration: float) -> None:
        idle: list[Connection] = []
        opened = 0
        freed = asyncio.Condition()
        for _ in range(min(PREOPENED_CONNECTIONS, max(1, int(rate // 50)))):
            conn = Connection(self.host, self.port)
            await conn.connect()
            idle.append(conn)
        opened = len(idle)
        start = time.perf_counter()
        tasks = []

        async def fire(scheduled: float, template: Template) -> None:
            nonlocal opened
            async with freed:
                while not idle and opened >= MAX_OPEN_CONNECTIONS:
                    await freed.wait()
                if idle:
                    conn = idle.pop()
                else:
                    opened += 1
                    conn = Connection(self.host, self.port)
            await self.one(conn, template, scheduled)
            async with freed:
                idle.append(conn)
                freed.notify()

        for k in range(int(rate * duration)):
            scheduled = start + k / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(scheduled, self.next_template())))
        await asyncio.wait(tasks, timeout=self.timeout + 5) if tasks else None
        for conn in idle:
            conn.close()

    def result(self, seconds: float, cpu: float) -> dict[str, Any]:
        per_tag = {tag: summarize(sample, seconds) for tag, sample in self.samples.items()}
        overall = Sample()
        for sample in self.samples.values():
            overall.latencies += sample.latencies
            overall.errors += sample.errors
            overall.db_ms += sample.db_ms
            for target, source in ((overall.statuses, sample.statuses),
                                   (overall.cache, sample.cache)):
                for k, v in source.items():
                    target[k] = target.get(k, 0) + v
        return {"overall": summarize(overall, seconds), "tags": per_tag,
                "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3)}


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarize(sample: Sample, seconds: float) -> dict[str, Any]:
    ordered = sorted(sample.latencies)
    ms = [round(1000 * percentile(ordered, q), 3) for q in (0.5, 0.95, 0.99, 1.0)]
    count = len(ordered)
    return {"count": count, "errors": sample.errors, "statuses": sample.statuses,
            "cache": sample.cache, "p50_ms": ms[0], "p95_ms": ms[1], "p99_ms": ms[2],
            "max_ms": ms[3], "mean_ms": round(1000 * sum(ordered) / count, 3) if count else 0.0,
            "rps": round(count / seconds, 1) if seconds else 0.0,
            "db_ms_per_request": round(sample.db_ms / count, 3) if count else 0.0}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(job: dict[str, Any]) -> dict[str, Any]:
    runner = Run(job)
    mode = job.get("mode", "closed")
    cpu, started = cpu_seconds(), time.perf_counter()
    if mode == "open":
        await runner.open(float(job["rate"]), float(job["duration"]))
    elif mode == "sequential":
        limit = len(runner.templates) * int(job.get("repeat", 1))
        await runner.closed(1, float(job.get("duration", 600)), limit)
    else:
        await runner.closed(int(job.get("concurrency", 64)), float(job["duration"]),
                            job.get("max_requests"))
    return runner.result(time.perf_counter() - started, cpu_seconds() - cpu)


def main() -> None:
    import uvloop

    job = json.load(sys.stdin)
    json.dump(uvloop.run(run(job)), sys.stdout)


if __name__ == "__main__":
    main()

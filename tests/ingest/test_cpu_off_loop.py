"""CPU-heavy ingest work runs off the event loop: a real server keeps answering meanwhile."""

import asyncio
import statistics
import time

import httpx
import orjson
import ua_parser

from tests import services
from tests.factories import auth, make_event, make_project

AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel {n}) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.{n}.0 Mobile Safari/537.36")


def test_user_agents_are_parsed_by_the_compiled_backend():
    assert ua_parser.RegexResolver is not None  # ua-parser-rs is installed
    assert ua_parser.BestAvailableResolver is ua_parser.RegexResolver


async def test_ten_thousand_unique_user_agents_leave_healthz_fast(database_url, redis_url, db):
    project = await make_project(db)
    headers = {**auth(project.keys.ingest), "Content-Type": "application/json"}
    body = orjson.dumps([make_event(visitor_id=f"v{n}", user_agent=AGENT.format(n=n))
                         for n in range(10_000)])
    with services.served(database_url, redis_url) as server:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}",
                                     timeout=300) as http:
            warm = orjson.dumps([make_event(user_agent=AGENT.format(n="warm"))])
            assert (await http.post("/api/v1/events", content=warm, headers=headers)
                    ).status_code == 202
            latencies: list[float] = []

            async def ping() -> None:
                while True:
                    started = time.perf_counter()
                    assert (await http.get("/healthz")).status_code == 200
                    latencies.append(time.perf_counter() - started)
                    await asyncio.sleep(0.01)

            pinger = asyncio.create_task(ping())
            await asyncio.sleep(1)  # the idle server's latency on this machine, now
            idle, latencies = latencies, []
            response = await http.post("/api/v1/events", content=body, headers=headers)
            pinger.cancel()
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 10_000, "duplicates": 0}
    assert len(latencies) >= 20
    p95 = statistics.quantiles(latencies, n=20)[-1]
    # 50 ms over what the machine's own scheduling costs an idle server (a shared CI machine)
    idle_p95 = statistics.quantiles(idle, n=20)[-1]
    assert p95 < 0.050 + idle_p95, (p95, idle_p95, max(latencies), len(latencies))

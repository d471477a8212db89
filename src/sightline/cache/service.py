"""Serve a computed JSON result through the cache: HIT, MISS, STALE or BYPASS.

The stats, query and dashboard endpoints call `respond`. A HIT returns the stored bytes as they
are (one backend round trip, no database, no re-serialization). A miss computes once however
many identical requests arrive together: within a process they wait on one future, across
processes on a short Redis lock (polling the entry, holding nothing else). An entry past its
TTL but within the grace period is served STALE while the one request that wins the lock
recomputes it. Validity is decided by versions (see `cache.keys`), never by deleting keys.
"""

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sightline.cache import keys
from sightline.cache.backends import Lookup
from sightline.cache.store import CacheStore
from sightline import exports
from sightline.jsonresp import JSON, dumps
from sightline.ops.metrics import REQUEST_STATS
from sightline.state import app_state

Compute = Callable[[], Awaitable[dict[str, Any]]]
REALTIME_LIMIT = timedelta(seconds=5)
ADDED_META = ("computed_at", "watermark", "data_version")
POLL_FIRST, POLL_MAX = 0.005, 0.05


@dataclass(frozen=True, slots=True)
class Served:
    body: bytes
    header: keys.Header
    status: str
    compute_seconds: float = 0.0


class LeaderGone(Exception):
    """The request computing a shared result was cancelled; a follower takes over."""


async def respond(
    request: Request,
    project_id: str,
    kind: str,
    query: dict[str, Any],
    span: tuple[datetime, datetime] | None,
    compute: Compute,
) -> Response:
    """`kind` names the report (e.g. "stats.pages", "dashboard"); `query` is the normalized query
    (JSON-able, part of the key); `span` is the range of event instants the result depends on
    (None: any change in the project)."""
    started = time.perf_counter()
    store: CacheStore | None = getattr(app_state(request), "cache", None)  # None: no lifespan
    stats = REQUEST_STATS.get()
    db_before = stats.db_seconds if stats is not None else 0.0
    served = await through_cache(request, project_id, kind, query, span, compute)
    db_seconds = (stats.db_seconds if stats is not None else 0.0) - db_before
    if stats is None:
        db_seconds = served.compute_seconds
    now = store.clock() if store is not None else time.time()
    cache_seconds = time.perf_counter() - started - served.compute_seconds
    return render(request, served, now, cache_seconds, db_seconds, kind)


async def through_cache(request: Request, project_id: str, kind: str, query: dict[str, Any],
                        span: tuple[datetime, datetime] | None, compute: Compute) -> Served:
    """The entry of `query`: a hit, or computed once however many ask at once."""
    store: CacheStore | None = getattr(app_state(request), "cache", None)  # None: no lifespan
    if store is None or not store.settings.enabled:
        return await Plan(None, project_id, kind, query, span, compute).compute(None, "BYPASS")
    plan = Plan(store, project_id, kind, query, span, compute)
    served = await (plan.refresh() if wants_fresh(request) else plan.serve())
    if store.metrics is not None:
        store.metrics.cache_results.labels(kind, served.status.lower()).inc()
    return served


async def cached_data(request: Request, project_id: str, kind: str, query: dict[str, Any],
                      span: tuple[datetime, datetime] | None, compute: Compute) -> dict[str, Any]:
    """`respond` for callers that need the data rather than a response (GraphQL): the same
    entries, freshness and single flight."""
    served = await through_cache(request, project_id, kind, query, span, compute)
    data: dict[str, Any] = orjson.loads(served.body)
    return data


def wants_fresh(request: Request) -> bool:
    directives = request.headers.get("cache-control", "").lower()
    return ("no-cache" in directives or "no-store" in directives
            or request.headers.get("pragma", "").lower() == "no-cache")


def ttl_for(store: CacheStore | None, kind: str) -> tuple[float, float]:
    """(TTL, stale grace) in seconds for a kind of result."""
    if store is None:
        return 0.0, 0.0
    settings = store.settings
    ttl = settings.ttls.get(kind, settings.ttl)
    if kind.endswith("realtime"):  # may lag by 5 s at most, stale serving included
        return min(ttl, settings.realtime_ttl, REALTIME_LIMIT).total_seconds(), 0.0
    return ttl.total_seconds(), settings.stale_grace.total_seconds()


def valid_for(header: keys.Header, look: Lookup) -> bool:
    """Does an entry reflect every change its span depends on, as seen by `look`?"""
    return (header.epoch == look.epoch and header.incarnation == look.incarnation
            and look.newest_change <= header.stamp)


class Plan:
    """One cacheable result: its key, the versions it depends on, how long it lives."""

    def __init__(self, store: CacheStore | None, project_id: str, kind: str,
                 query: dict[str, Any], span: tuple[datetime, datetime] | None, compute: Compute):
        self.store = store
        self.project_id = project_id
        self.compute_fn = compute
        self.entry = keys.entry_key(store.prefix if store else "", project_id, kind, query)
        self.fields = keys.span_fields(span)
        self.ttl, self.grace = ttl_for(store, kind)

    async def lookup(self) -> Lookup | None:
        assert self.store is not None
        return await self.store.lookup(self.project_id, self.entry, self.fields)

    def judge(self, look: Lookup) -> tuple[str, Served] | None:
        """("fresh" | "stale", entry) when the entry may be served, None when it must be rebuilt."""
        decoded = keys.decode_entry(look.blob) if look.blob else None
        if decoded is None or not valid_for(decoded[0], look):
            return None
        header, body = decoded
        now = self.store.clock() if self.store else time.time()
        if now < header.fresh_until:
            return "fresh", Served(body, header, "HIT")
        if now < header.fresh_until + self.grace:
            return "stale", Served(body, header, "STALE")
        return None

    async def serve(self) -> Served:
        assert self.store is not None
        arrived = time.monotonic()
        look = await self.lookup()
        if look is None:  # the cache cannot be read now: identical requests share a computation
            return await self.store.unread_misses.run(
                self.entry, lambda: self.compute(None, "MISS"), arrived)
        judged = self.judge(look)
        if judged is not None and judged[0] == "fresh":
            return judged[1]
        if judged is not None:  # stale: one request refreshes, the others keep the old value
            token = uuid.uuid4().hex
            got = await self.store.acquire(self.entry, token, self.lock_ms())
            if got is False:
                return judged[1]
            return await self.compute(look, "MISS", token)
        return await self.fill(look)

    async def refresh(self) -> Served:
        """`Cache-Control: no-cache`: computed after the request arrived (identical requests
        share such a computation, see `cache.refresh`), and the entry refreshed."""
        assert self.store is not None

        async def recompute() -> Served:
            return await self.compute(await self.lookup(), "BYPASS")

        return await self.store.refreshes.run(self.entry, recompute)

    async def fill(self, look: Lookup) -> Served:
        """Compute a missing entry once per process (others await the same future)."""
        assert self.store is not None
        flights = self.store.flights
        while (flight := flights.get(self.entry)) is not None:
            try:
                served = await asyncio.shield(flight)
            except LeaderGone:
                continue
            if valid_for(served.header, look):
                return served
            break  # the shared result predates a change this request must see
        if self.entry in flights:
            return await self.fill_across_processes(look)
        future: asyncio.Future[Served] = asyncio.get_running_loop().create_future()
        flights[self.entry] = future
        try:
            served = await self.fill_across_processes(look)
            future.set_result(served)
            return served
        except BaseException as exc:
            shared = exc if isinstance(exc, Exception) else LeaderGone()
            future.set_exception(shared)
            future.exception()  # retrieved: followers may be gone
            raise
        finally:
            if flights.get(self.entry) is future:
                del flights[self.entry]

    async def fill_across_processes(self, look: Lookup) -> Served:
        """Take the entry's lock and compute, or wait for the lock holder's entry."""
        assert self.store is not None
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.store.settings.lock_wait.total_seconds()
        delay = POLL_FIRST
        while True:
            got = await self.store.acquire(self.entry, token, self.lock_ms())
            if got:  # the previous holder may have stored the entry since our lookup
                newer = await self.lookup()
                judged = self.judge(newer) if newer is not None else None
                if judged is not None and judged[0] == "fresh":
                    await self.store.release(self.entry, token)
                    return judged[1]
                look = newer or look
            if got is not False or time.monotonic() > deadline:
                return await self.compute(look, "MISS", token if got else None)
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
            newer = await self.lookup()
            if newer is None:
                return await self.compute(None, "MISS")
            look = newer
            judged = self.judge(look)
            if judged is not None and judged[0] == "fresh":
                return judged[1]

    async def compute(self, look: Lookup | None, status: str, token: str | None = None) -> Served:
        """Run the computation, add freshness to `meta`, store the entry when the versions it
        depends on were read first (`look`)."""
        started = time.perf_counter()
        try:
            data = await self.compute_fn()
        except BaseException:
            if token is not None and self.store is not None:
                await self.store.release(self.entry, token)
            raise
        compute_seconds = time.perf_counter() - started
        now = self.store.clock() if self.store else time.time()
        etag = make_etag(self.entry, data)
        meta = dict(data.get("meta") or {})
        data = {**data, "meta": meta}
        meta["computed_at"] = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
        meta["watermark"] = look.ingested_at if look else None
        meta["data_version"] = look.seq if look else None
        body = dumps(data)
        header = keys.Header(look.seq if look else 0, look.incarnation if look else "",
                             look.epoch if look else 0, now, now + self.ttl, etag)
        if look is not None and self.store is not None:
            ttl_ms = int((self.ttl + self.grace) * 1000) or 1
            await self.store.store(self.entry, keys.encode_entry(header, body), ttl_ms, token)
        return Served(body, header, status, compute_seconds)

    def lock_ms(self) -> int:
        assert self.store is not None
        return int(self.store.settings.lock_ttl.total_seconds() * 1000)


def make_etag(entry: str, data: dict[str, Any]) -> str:
    """A weak validator of what the result says (freshness fields left out), so a recomputation
    with the same numbers keeps its ETag."""
    meta = {k: v for k, v in (data.get("meta") or {}).items() if k not in ADDED_META}
    digest = hashlib.sha256(entry.encode() + dumps({**data, "meta": meta})).hexdigest()
    return f'W/"{digest[:32]}"'


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def render(request: Request, served: Served, now: float, cache_seconds: float,
           db_seconds: float, kind: str) -> Response:
    """The stored JSON as it is, or as CSV when the request asks for it (see `exports`)."""
    age = max(0, int(now - served.header.computed_at))
    as_csv = exports.wants_csv(request)
    etag = exports.csv_etag(served.header.etag) if as_csv else served.header.etag
    headers = {
        "X-Cache": served.status,
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Vary": "Accept",
        "Age": str(age),
        "Server-Timing": f"cache;dur={cache_seconds * 1000:.2f}, db;dur={db_seconds * 1000:.2f}",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if as_csv:
        name = kind.removeprefix("stats.").replace("/", "-")
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return Response(exports.to_csv(served.body), headers=headers, media_type=exports.CSV)
    return Response(served.body, headers=headers, media_type=JSON)

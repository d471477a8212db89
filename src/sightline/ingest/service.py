"""Ingestion use cases: validate a whole batch, store it once, rebuild the sessions it touches."""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from sightline.cache import stamps
from sightline.ingest import queries
from sightline.ingest.normalize import StoredEvent, to_stored
from sightline.ingest.schemas import EventIn
from sightline.problems import BatchInvalid, MalformedBody, PayloadTooLarge
from sightline.projects.schemas import ProjectOut
from sightline.rollups import service as rollups
from sightline.settings import IngestSettings

EVENTS = TypeAdapter(list[EventIn])


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """The instants whose derived data an ingest changed (for cache invalidation)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Batch:
    """A validated batch in stored form: the first event of each id, and how many were sent."""

    events: list[StoredEvent]
    size: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    duplicates: int
    touched: TimeSpan | None


def unwrap_batch(payload: Any, max_events: int) -> list[Any]:
    """The body is a JSON array of events or {"events": [...]}."""
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        payload = payload["events"]
    if not isinstance(payload, list):
        raise BatchInvalid([{"index": None, "field": "body",
                             "message": 'expected a JSON array of events or {"events": [...]}'}])
    if len(payload) > max_events:
        raise PayloadTooLarge(f"At most {max_events} events per request; got {len(payload)}")
    return payload


# Encoding parameters and reading the returned rows of a statement is CPU work on the event loop:
# a big batch is stored in slices, so other requests are served between them.
INGEST_SLICE = 500

# Pydantic holds the GIL for a whole validate call: validating in slices lets the event loop
# thread run between them while a big batch is validated in a worker thread.
VALIDATE_SLICE = 250


def validate_batch(payload: list[Any], now: datetime, future_tolerance: timedelta) -> list[EventIn]:
    errors: list[dict[str, Any]] = []
    events: list[EventIn] = []
    for offset in range(0, len(payload), VALIDATE_SLICE):
        try:
            events += EVENTS.validate_python(payload[offset:offset + VALIDATE_SLICE])
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                index, *location = error["loc"]
                errors.append({"index": offset + int(index),
                               "field": ".".join(map(str, location)) or None,
                               "message": error["msg"]})
    if errors:
        raise BatchInvalid(errors)
    latest = now + future_tolerance
    for index, event in enumerate(events):
        if event.timestamp is not None and event.timestamp > latest:
            errors.append({"index": index, "field": "timestamp",
                           "message": "timestamp is more than 1 hour in the future"})
    if errors:
        raise BatchInvalid(errors)
    return events


def read_batch(body: bytes, now: datetime, settings: IngestSettings) -> Batch:
    """Parse, validate and normalize a request body (pure CPU work: run it off the event loop)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}") from None
    events = validate_batch(unwrap_batch(payload, settings.max_events), now,
                            settings.future_tolerance)
    return Batch(first_of_each_id([to_stored(event, now) for event in events]), len(events))


def first_of_each_id(events: list[StoredEvent]) -> list[StoredEvent]:
    seen: set[str] = set()
    kept = []
    for event in events:
        if event.event_id is not None:
            if event.event_id in seen:
                continue
            seen.add(event.event_id)
        kept.append(event)
    return kept


def columns_of(events: list[StoredEvent]) -> dict[str, list[Any]]:
    return {f.name: [getattr(e, f.name) for e in events] for f in fields(StoredEvent)}


async def store_events(
    db: AsyncSession, project: ProjectOut, batch: Batch, session_timeout: timedelta,
) -> IngestResult:
    """Store a validated batch once; rebuild the sessions it touches; mark stale rollup days.
    A big batch is stored in slices of whole visitors (a visitor's sessions depend on their
    own events only), in the one transaction."""
    project_id = project.id
    await db.execute(queries.LOCK_PROJECT, {"project_id": project_id})
    accepted, spans = 0, []
    for part in visitor_slices(batch.events, INGEST_SLICE):
        await rollups.register_visitors(db, project_id, [e.visitor_key for e in part])
        inserted = (await db.execute(queries.INSERT_EVENTS,
                                     {"project_id": project_id, **columns_of(part)})).all()
        spans += await rebuild_sessions(db, project_id, explicit_session_keys(inserted))
        spans += await rebuild_auto_sessions(db, project_id, inserted, session_timeout)
        accepted += len(inserted)
    touched = TimeSpan(min(s for s, _ in spans), max(e for _, e in spans)) if spans else None
    if touched is not None:
        await rollups.mark_stale_spans(db, project_id, project.timezone, spans)
        await rollups.schedule_build(db, project_id)
    stamps.events_committed(db, project_id, touched)
    return IngestResult(accepted=accepted, duplicates=batch.size - accepted, touched=touched)


def visitor_slices(events: list[StoredEvent], size: int) -> list[list[StoredEvent]]:
    """The events in slices of about `size`, each holding all the events of its visitors."""
    by_visitor: dict[str, list[StoredEvent]] = {}
    for event in events:
        by_visitor.setdefault(event.visitor_id, []).append(event)
    slices: list[list[StoredEvent]] = [[]]
    for visitor_events in by_visitor.values():
        if len(slices[-1]) >= size:
            slices.append([])
        slices[-1] += visitor_events
    return slices


def explicit_session_keys(inserted: list[Any]) -> list[tuple[str, str]]:
    return sorted({(row.visitor_id, row.session_key) for row in inserted if row.session_key})


def new_spans(inserted: list[Any]) -> dict[str, tuple[datetime, datetime]]:
    """Per visitor, the first and last new event without a session id."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for row in inserted:
        if row.session_key is None:
            lo, hi = spans.get(row.visitor_id, (row.ts, row.ts))
            spans[row.visitor_id] = (min(lo, row.ts), max(hi, row.ts))
    return spans


async def rebuild_auto_sessions(
    db: AsyncSession, project_id: str, inserted: list[Any], timeout: timedelta
) -> list[tuple[datetime, datetime]]:
    spans = new_spans(inserted)
    if not spans:
        return []
    windows = (await db.execute(queries.AUTO_SESSION_WINDOWS, {
        "project_id": project_id, "timeout": timeout, "visitor_ids": list(spans),
        "los": [lo for lo, _ in spans.values()], "his": [hi for _, hi in spans.values()],
    })).all()
    params = {
        "project_id": project_id, "timeout": timeout,
        "visitor_ids": [w.visitor_id for w in windows],
        "los": [w.lo for w in windows], "his": [w.hi for w in windows],
    }
    old = (await db.execute(queries.DELETE_AUTO_SESSIONS_IN_WINDOWS, params)).all()
    await db.execute(queries.ASSIGN_AUTO_SESSION_KEYS, params)
    keys = (await db.execute(queries.SELECT_AUTO_SESSION_KEYS_IN_WINDOWS, params)).all()
    return [tuple(row) for row in old] + await rebuild_sessions(db, project_id, keys, delete=False)


async def rebuild_sessions(
    db: AsyncSession, project_id: str, keys: list[Any], delete: bool = True
) -> list[tuple[datetime, datetime]]:
    if not keys:
        return []
    params = {"project_id": project_id, "visitor_ids": [k[0] for k in keys],
              "session_keys": [k[1] for k in keys]}
    spans = []
    if delete:
        spans += (await db.execute(queries.DELETE_SESSIONS, params)).all()
    spans += (await db.execute(queries.INSERT_SESSIONS, params)).all()
    return [tuple(span) for span in spans]

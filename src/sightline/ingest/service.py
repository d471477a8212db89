"""Ingestion use cases: validate a whole batch, store it once, rebuild the sessions it touches."""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from sightline.cache import stamps
from sightline.ingest import queries
from sightline.ingest.normalize import StoredEvent, to_stored
from sightline.ingest.schemas import EventIn
from sightline.problems import BatchInvalid, PayloadTooLarge
from sightline.projects.schemas import ProjectOut
from sightline.rollups import service as rollups

EVENTS = TypeAdapter(list[EventIn])


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """The instants whose derived data an ingest changed (for cache invalidation)."""

    start: datetime
    end: datetime


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


def validate_batch(payload: list[Any], now: datetime, future_tolerance: timedelta) -> list[EventIn]:
    errors: list[dict[str, Any]] = []
    try:
        events = EVENTS.validate_python(payload)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            index, *location = error["loc"]
            errors.append({"index": index, "field": ".".join(map(str, location)) or None,
                           "message": error["msg"]})
        raise BatchInvalid(errors) from None
    latest = now + future_tolerance
    for index, event in enumerate(events):
        if event.timestamp is not None and event.timestamp > latest:
            errors.append({"index": index, "field": "timestamp",
                           "message": "timestamp is more than 1 hour in the future"})
    if errors:
        raise BatchInvalid(errors)
    return events


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
    db: AsyncSession, project: ProjectOut, events: list[EventIn], now: datetime,
    session_timeout: timedelta,
) -> IngestResult:
    """Store a validated batch once; rebuild the sessions it touches; mark stale rollup days."""
    project_id = project.id
    stored = first_of_each_id([to_stored(event, now) for event in events])
    await db.execute(queries.LOCK_PROJECT, {"project_id": project_id})
    await rollups.register_visitors(db, project_id, [e.visitor_key for e in stored])
    inserted = (await db.execute(queries.INSERT_EVENTS,
                                 {"project_id": project_id, **columns_of(stored)})).all()
    spans = await rebuild_sessions(db, project_id, explicit_session_keys(inserted))
    spans += await rebuild_auto_sessions(db, project_id, inserted, session_timeout)
    touched = TimeSpan(min(s for s, _ in spans), max(e for _, e in spans)) if spans else None
    if touched is not None:
        await rollups.mark_stale_spans(db, project_id, project.timezone, spans)
        await rollups.schedule_build(db, project_id)
    stamps.events_committed(db, project_id, touched)
    return IngestResult(accepted=len(inserted), duplicates=len(events) - len(inserted),
                        touched=touched)


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

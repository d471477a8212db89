"""Cache keys, version fields and the stored entry format.

An entry lives at `stats:v1:{<project_id>}:<sha256 of canonical JSON of kind + query>`; the braces
put every key of one project in one Redis Cluster slot. Next to the entries, one hash per project
(`stats:v1:{<project_id>}:versions`) holds a change counter `seq` and, per field, the value of
`seq` at the last change that touched it: `d:YYYY-MM-DD` (a UTC day), `m:YYYY-MM` (a UTC month),
`any` (any change) and `all` (a change to everything, e.g. goals). An entry remembers `seq` as read
before its computation began; it is valid while no field its span covers has a higher version.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

SCHEMA = "stats:v1"
MAX_DAY_FIELDS = 93  # a longer span is checked by months, a coarser but still safe answer
MAX_MONTH_FIELDS = 1200
MAX_BUMP_DAYS = 3660  # a change wider than this is recorded as a change to everything


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def project_prefix(prefix: str, project_id: str) -> str:
    return f"{prefix}{SCHEMA}:{{{project_id}}}"


def entry_key(prefix: str, project_id: str, kind: str, query: dict[str, Any]) -> str:
    digest = hashlib.sha256(canonical_json({"kind": kind, "query": query})).hexdigest()
    return f"{project_prefix(prefix, project_id)}:{digest}"


def versions_key(prefix: str, project_id: str) -> str:
    return f"{project_prefix(prefix, project_id)}:versions"


def lock_key(entry: str) -> str:
    return f"{entry}:lock"


def epoch_key(prefix: str) -> str:
    return f"{prefix}{SCHEMA}:epoch"


def utc_days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def utc_months(start: datetime, end: datetime) -> list[str]:
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    months = []
    for n in range(count):
        year, month = divmod(first.month - 1 + n, 12)
        months.append(f"m:{first.year + year:04d}-{month + 1:02d}")
    return months


def span_fields(span: tuple[datetime, datetime] | None) -> list[str]:
    """The version fields a result over `span` depends on (None: the whole project)."""
    if span is None:
        return ["any"]
    start, end = span
    if end < start:
        start, end = end, start
    if (end - start).days < MAX_DAY_FIELDS:
        return ["all", *(f"d:{day.isoformat()}" for day in utc_days(start, end))]
    months = utc_months(start, end)
    return ["all", *months] if len(months) <= MAX_MONTH_FIELDS else ["any"]


def change_fields(start: datetime, end: datetime) -> list[str]:
    """The version fields a change to the events in [start, end] bumps."""
    if end < start:
        start, end = end, start
    if (end - start).days > MAX_BUMP_DAYS:
        return everything_fields()
    days = [f"d:{day.isoformat()}" for day in utc_days(start, end)]
    return ["any", *days, *utc_months(start, end)]


def everything_fields() -> list[str]:
    return ["any", "all"]


@dataclass(frozen=True, slots=True)
class Header:
    """What an entry says about itself, stored in front of the response body."""

    stamp: int  # the project's `seq` read before the computation began
    incarnation: str  # the versions hash's random id (a lost hash must not look unchanged)
    epoch: int  # the global epoch (bumped after changes were lost during an outage)
    computed_at: float  # unix seconds
    fresh_until: float  # unix seconds
    etag: str


def encode_entry(header: Header, body: bytes) -> bytes:
    head = orjson.dumps([header.stamp, header.incarnation, header.epoch, header.computed_at,
                         header.fresh_until, header.etag])
    return head + b"\n" + body


def decode_entry(blob: bytes) -> tuple[Header, bytes] | None:
    head, sep, body = blob.partition(b"\n")
    if not sep:
        return None
    try:
        stamp, incarnation, epoch, computed_at, fresh_until, etag = orjson.loads(head)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    return Header(stamp, incarnation, epoch, computed_at, fresh_until, etag), body

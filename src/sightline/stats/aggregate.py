"""Measures of one dimension value over any set of days, combined as the metric registry says:
counts and sums add up, visitor sets are unions of roaring bitmaps of visitor numbers.

No I/O of its own: the rollup build (rollups/) and the rollup read (stats.rollup_read) share it.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pyroaring import BitMap

from sightline.stats.metrics import columns, measures

BITMAP_COLUMNS = columns("union")
COUNT_COLUMNS = columns("count")
SUM_COLUMNS = columns("sum")


def as_bitmap(value: BitMap | bytes | list[int]) -> BitMap:
    if isinstance(value, BitMap):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BitMap.deserialize(bytes(value))
    return BitMap(value)


@dataclass
class Aggregate:
    """Measures of one dimension value over any set of days, by rollup column."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLUMNS, 0))
    sums: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(SUM_COLUMNS, Decimal(0)))
    sets: dict[str, BitMap] = field(default_factory=lambda: {c: BitMap() for c in BITMAP_COLUMNS})

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> "Aggregate":
        """Merge rows, reading only the columns they have (event and session rows differ)."""
        aggregate = cls()
        present = set().union(*(row.keys() for row in rows))
        for name in COUNT_COLUMNS:
            if name in present:
                aggregate.counts[name] = sum(row.get(name) or 0 for row in rows)
        for name in SUM_COLUMNS:
            if name in present:
                aggregate.sums[name] = sum((row[name] for row in rows if row.get(name)),
                                           Decimal(0))
        for name in BITMAP_COLUMNS:
            if name in present:
                aggregate.sets[name] = BitMap.union(
                    *(as_bitmap(row[name]) for row in rows if row.get(name)), BitMap())
        return aggregate

    def merge(self, other: "Aggregate") -> None:
        for name in COUNT_COLUMNS:
            self.counts[name] += other.counts[name]
        for name in SUM_COLUMNS:
            self.sums[name] += other.sums[name]
        for name in BITMAP_COLUMNS:
            self.sets[name] |= other.sets[name]

    def as_row(self, table: str) -> dict[str, Any]:
        """The measures of one table's day rows (a row that `of` merges again)."""
        names = {m.column for m in measures(table)}  # type: ignore[arg-type]
        return {**{n: v for n, v in self.counts.items() if n in names},
                **{n: v for n, v in self.sums.items() if n in names},
                **{n: v for n, v in self.sets.items() if n in names}}

    def metrics_row(self, session_list: bool) -> dict[str, Any]:
        """The measures by name, in the shape stats.metrics reads."""
        visitors = self.sets["session_visitors" if session_list else "event_visitors"]
        return {**self.counts, **self.sums, "visitors": len(visitors),
                "paying_visitors": len(self.sets["paying_visitors"])}


Merged = dict[str, Aggregate]  # per dimension value


KEPT_EVENT_ROWS = 256  # entries of MergedDays.event_rows and of ByLastEvent


class ByLastEvent:
    """Results that hold while a project's last event id is the one they were computed at:
    sessions change only when events are added (ingest rebuilds the sessions of the visitors
    it adds events to). Concurrent requests for one key share one computation."""

    def __init__(self, entries: int = KEPT_EVENT_ROWS):
        self.max_entries = entries
        self.entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self.turns: dict[Hashable, asyncio.Lock] = {}

    async def get(self, key: Hashable, last_id: int, compute: Callable[[], Awaitable[Any]]) -> Any:
        turn = self.turns.setdefault(key, asyncio.Lock())
        try:
            async with turn:
                entry = self.entries.get(key)
                if entry is None or entry[0] < last_id:
                    entry = (last_id, await compute())
                    self.entries[key] = entry
                self.entries.move_to_end(key)
                while len(self.entries) > self.max_entries:
                    dropped, _ = self.entries.popitem(last=False)
                    if not (waiting := self.turns.get(dropped)) or not waiting.locked():
                        self.turns.pop(dropped, None)
                return entry[1]
        finally:
            if not turn.locked() and key not in self.entries:
                self.turns.pop(key, None)


class MergedDays:
    """Least recently used merged built days, within a budget of bitmap bytes; the event-table
    rows of days not built (today), each with the last event id they include, for
    stats.rollup_read to bring up to date with the events committed since; and their session
    rows, by the last event id they were read at."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes = max_bytes, 0
        self.entries: OrderedDict[Hashable, tuple[Merged, int]] = OrderedDict()
        self.event_rows: OrderedDict[Hashable, tuple[int, list[dict[str, Any]]]] = OrderedDict()
        self.by_last_event = ByLastEvent()

    def kept_event_rows(self, key: Hashable) -> tuple[int, list[dict[str, Any]]] | None:
        entry = self.event_rows.get(key)
        if entry is not None:
            self.event_rows.move_to_end(key)
        return entry

    def keep_event_rows(self, key: Hashable, last_id: int, rows: list[dict[str, Any]]) -> None:
        kept = self.event_rows.get(key)
        if kept is not None and kept[0] >= last_id:  # a concurrent request kept newer rows
            return
        self.event_rows[key] = (last_id, rows)
        self.event_rows.move_to_end(key)
        while len(self.event_rows) > KEPT_EVENT_ROWS:
            self.event_rows.popitem(last=False)

    def get(self, key: Hashable) -> Merged | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, merged: Merged) -> None:
        size = sum(bitmap.__sizeof__()  # pyroaring: the serialized size
                   for aggregate in merged.values() for bitmap in aggregate.sets.values())
        if size > self.max_bytes or key in self.entries:
            return
        self.entries[key] = (merged, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self.entries.popitem(last=False)
            self.bytes -= dropped


def combine(results: Iterable[Sequence[dict[str, Any]]],
            key: Callable[[dict[str, Any]], Hashable]) -> dict[Any, Aggregate]:
    """Merge rows by key; bitmaps are unioned in one call per key."""
    grouped: dict[Hashable, list[dict[str, Any]]] = {}
    for result in results:
        for row in result:
            grouped.setdefault(key(row), []).append(row)
    return {k: Aggregate.of(rows) for k, rows in grouped.items()}


def to_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def by_day_and_key(row: dict[str, Any]) -> tuple[date, str, str]:
    return to_date(row["day"]), row["dimension"], row["value"]

"""Funnel depth per visitor: greedy earliest matches, best over every first step in range."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any


def depth_from(events: list[tuple[datetime, tuple[bool, ...]]], first: int, window: timedelta,
               steps: int) -> int:
    """Steps reached starting at events[first] (which matches step 1): each next step is the
    earliest later event matching it, no later than the first event + window."""
    start_ts = events[first][0]
    deadline = start_ts + window
    reached, last_ts = 1, start_ts
    for ts, flags in events[first + 1:]:
        if ts > deadline or reached == steps:
            break
        if ts > last_ts and flags[reached]:
            reached, last_ts = reached + 1, ts
    return reached


def deepest_steps(
    rows: Iterable[dict[str, Any]], steps: int, start: datetime, end: datetime, window: timedelta,
) -> list[int]:
    """Visitors reaching each step; rows are ordered by visitor then timestamp."""
    reached = [0] * steps
    for _, visitor_rows in groupby(rows, key=lambda row: row["visitor_key"]):
        events = [(row["ts"], tuple(row[f"step_{i}"] for i in range(steps)))
                  for row in visitor_rows]
        best = 0
        for index, (ts, flags) in enumerate(events):
            if flags[0] and start <= ts < end:
                best = max(best, depth_from(events, index, window, steps))
                if best == steps:
                    break
        for step in range(best):
            reached[step] += 1
    return reached

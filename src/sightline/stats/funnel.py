"""Funnel depth per visitor: greedy earliest matches, best over every first step in range.

A visitor reaches step k from a first-step event e1 when events matching steps 2..k follow
with strictly increasing times, all within the window after e1. Taking, for each step, the
earliest event after the previous one is optimal for a given e1 (an earlier match never leaves
less room), so each e1 costs one binary search per step.
"""

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any


def depth_from(first: int, later_steps: Sequence[Sequence[int]], window: int) -> int:
    deadline, last, reached = first + window, first, 1
    for times in later_steps:
        index = bisect_right(times, last)
        if index == len(times) or times[index] > deadline:
            break
        last, reached = times[index], reached + 1
    return reached


def deepest(step_times: Sequence[Sequence[int]], start: int, end: int, window: int) -> int:
    best = 0
    for first in step_times[0]:
        if start <= first < end:
            best = max(best, depth_from(first, step_times[1:], window))
            if best == len(step_times):
                break
    return best


def deepest_steps(rows: Iterable[dict[str, Any]], steps: int, start: int, end: int,
                  window: int) -> list[int]:
    """Visitors reaching each step; each row holds one visitor's sorted times per step
    (microseconds since the epoch)."""
    reached = [0] * steps
    for row in rows:
        times = [row[f"step_{i}"] or [] for i in range(steps)]
        for step in range(deepest(times, start, end, window)):
            reached[step] += 1
    return reached

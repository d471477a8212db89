"""Dates and instants: periods, day starts in a zone, calendar buckets across DST.

Buckets are computed here, in Python with zoneinfo, as a list of UTC instants; SQL only
assigns each timestamp to its bucket with width_bucket(). So every zone (:30 and :45 offsets
included) and every DST change is handled in one place.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_BUCKETS = 10_000
EARLIEST = date(2000, 1, 1)  # dates a query may name (SPEC section 7)
LATEST = date(2100, 12, 31)


def in_bounds(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def today_in(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def period_range(period: str, today: date) -> tuple[date, date]:
    if period == "today":
        return today, today
    if period == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if period == "7d":
        return today - timedelta(days=6), today
    if period == "30d":
        return today - timedelta(days=29), today
    if period == "month":
        return today.replace(day=1), today
    if period == "12mo":
        return add_months(today.replace(day=1), -11), today
    raise ValueError(period)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date in UTC, also where DST skips midnight (fold=0 maps a
    skipped wall time to the transition instant)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def instant_range(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return day_start(date_from, zone), day_start(date_to + timedelta(days=1), zone)


def shift_year_back(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def comparison_range(compare: str, date_from: date, date_to: date) -> tuple[date, date]:
    if compare == "previous_period":
        length = (date_to - date_from).days + 1
        return date_from - timedelta(days=length), date_from - timedelta(days=1)
    return shift_year_back(date_from), shift_year_back(date_to)


@dataclass(frozen=True, slots=True)
class Buckets:
    labels: list[str]
    thresholds: list[datetime]  # bucket starts (the first clipped to the range), then range end


def calendar_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_calendar_start(day: date, interval: str) -> date:
    if interval == "week":
        return day + timedelta(days=7)
    if interval == "month":
        return add_months(day, 1)
    return day + timedelta(days=1)


def buckets(date_from: date, date_to: date, zone: ZoneInfo, interval: str) -> Buckets:
    start, end = instant_range(date_from, date_to, zone)
    if interval == "hour":
        count = int((end - start).total_seconds() // 3600)
        instants = [start + timedelta(hours=i) for i in range(count)]
        labels = [i.astimezone(zone).isoformat() for i in instants]
        return Buckets(labels, [*instants, end])
    labels, thresholds = [], []
    day = calendar_start(date_from, interval)
    while day <= date_to:
        labels.append(day.isoformat())
        thresholds.append(max(day_start(day, zone), start))
        day = next_calendar_start(day, interval)
    return Buckets(labels, [*thresholds, end])


def bucket_count(date_from: date, date_to: date, interval: str) -> int:
    days = (date_to - date_from).days + 1
    return {"hour": days * 25, "day": days, "week": days // 7 + 2, "month": days // 28 + 2}[interval]


REALTIME_WINDOW = timedelta(minutes=5)


def realtime_range(now: datetime) -> tuple[datetime, datetime]:
    """The last 5 minutes by the server clock, now included."""
    return now - REALTIME_WINDOW, now + timedelta(microseconds=1)


def cohort_starts(date_from: date, date_to: date, interval: str) -> list[date]:
    """Buckets (days or ISO weeks) whose start lies in the range."""
    day = calendar_start(date_from, interval)
    if day < date_from:
        day = next_calendar_start(day, interval)
    starts = []
    while day <= date_to:
        starts.append(day)
        day = next_calendar_start(day, interval)
    return starts


def following_starts(first: date, count: int, interval: str) -> list[date]:
    """`count` consecutive bucket starts from `first`, plus the end of the last one."""
    starts = [first]
    for _ in range(count):
        starts.append(next_calendar_start(starts[-1], interval))
    return starts

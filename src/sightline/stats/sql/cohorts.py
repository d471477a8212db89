"""Statements of retention and active users: distinct visitors across buckets."""

from datetime import datetime

from sqlalchemy import Select, distinct, func, literal_column, select

from sightline.stats.sql.aggregates import bucket_of
from sightline.stats.sql.sources import Source


def select_retention(
    all_events: Source, cohort_start: datetime, cohort_end: datetime, thresholds: list[datetime],
) -> Select:
    """(cohort bucket, activity bucket, visitors) for visitors whose first event ever (among the
    matching events) falls in [cohort_start, cohort_end)."""
    e = all_events.rows.c
    first = (select(e.visitor_key, func.min(e.ts).label("first_ts"))
             .select_from(all_events.from_clause).where(*all_events.where)
             .group_by(e.visitor_key)
             .having(func.min(e.ts) >= cohort_start, func.min(e.ts) < cohort_end)
             .subquery("first"))
    activity = (select(e.visitor_key, bucket_of(e.ts, thresholds).label("active"))
                .select_from(all_events.from_clause)
                .where(*all_events.where, e.ts >= cohort_start, e.ts < thresholds[-1])
                .distinct().subquery("activity"))
    cohort = bucket_of(first.c.first_ts, thresholds).label("cohort")
    return (select(cohort, activity.c.active, func.count().label("visitors"))
            .select_from(first.join(activity, first.c.visitor_key == activity.c.visitor_key))
            .group_by(literal_column("cohort"), activity.c.active))


def select_active_users(events: Source, thresholds: list[datetime], first_day: int) -> Select:
    """dau/wau/mau for day indexes >= first_day, where day i is [thresholds[i-1], thresholds[i])."""
    e = events.rows.c
    visitor_days = (select(e.visitor_key, bucket_of(e.ts, thresholds).label("day"))
                    .select_from(events.from_clause).where(*events.where).distinct()
                    .subquery("vd"))
    days = (func.generate_series(first_day, len(thresholds) - 1).table_valued("day")
            .render_derived(name="d"))
    vd = visitor_days.c
    return (select(days.c.day,
                   func.count(distinct(vd.visitor_key)).filter(vd.day == days.c.day).label("dau"),
                   func.count(distinct(vd.visitor_key)).filter(vd.day > days.c.day - 7).label("wau"),
                   func.count(distinct(vd.visitor_key)).label("mau"))
            .select_from(days.join(visitor_days, vd.day.between(days.c.day - 29, days.c.day)))
            .group_by(days.c.day))

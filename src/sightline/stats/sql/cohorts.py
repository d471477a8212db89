"""Statements of retention and active users: distinct visitors across buckets."""

from datetime import datetime

from sqlalchemy import Select, and_, distinct, func, select

from sightline.stats.sql.aggregates import bucket_of
from sightline.stats.sql.sources import Source


def select_retention(
    all_events: Source, cohort_start: datetime, cohort_end: datetime, thresholds: list[datetime],
) -> Select:
    """(cohort bucket, activity bucket, visitors) for visitors whose first event ever (among the
    matching events) falls in [cohort_start, cohort_end)."""
    e = all_events.rows.c
    # one pass, grouped by visitor (a join of first events to activity became a nested loop
    # over visitors on a project the statistics did not know yet)
    active = and_(e.ts >= cohort_start, e.ts < thresholds[-1])
    visitors = (select(func.min(e.ts).label("first_ts"),
                       func.array_agg(distinct(bucket_of(e.ts, thresholds))).filter(active)
                       .label("actives"))
                .select_from(all_events.from_clause).where(*all_events.where)
                .group_by(e.visitor_key)
                .having(func.min(e.ts) >= cohort_start, func.min(e.ts) < cohort_end)
                .subquery("v"))
    pairs = select(bucket_of(visitors.c.first_ts, thresholds).label("cohort"),
                   func.unnest(visitors.c.actives).label("active")).subquery("pairs")
    return (select(pairs.c.cohort, pairs.c.active, func.count().label("visitors"))
            .group_by(pairs.c.cohort, pairs.c.active))


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

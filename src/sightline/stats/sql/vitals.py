"""Web vitals per page: percentiles of one timing over the `web_vitals` events (SPEC section 8)."""

from sqlalchemy import Numeric, Select, case, cast, func, select

from sightline.stats.sql.sources import Source

VITALS_EVENT = "web_vitals"
PERCENTILES = {"p50": 0.5, "p75": 0.75, "p95": 0.95}
NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def select_vitals(events: Source, metric: str, limit: int, offset: int) -> Select:
    """Per page with samples: how many, and the nearest-rank p50, p75 and p95 of `metric`
    (a property of each web_vitals event; values that are not numbers are ignored)."""
    e = events.rows.c
    text = e.properties[metric].astext
    value = case((text.regexp_match(NUMBER), cast(text, Numeric)))
    samples = func.count(value)
    return (
        select(e.path.label("page"), samples.label("samples"),
               *(func.percentile_disc(fraction).within_group(value).label(name)
                 for name, fraction in PERCENTILES.items()))
        .select_from(events.from_clause)
        .where(*events.where, e.name == VITALS_EVENT, e.path.is_not(None), value.is_not(None))
        .group_by(e.path)
        .order_by(samples.desc(), e.path.collate("C"))
        .limit(limit).offset(offset)
    )

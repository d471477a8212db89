"""Response models of the stats reports: `results` shaped by the report's registry entry and
the normalized query echoed in `meta`.

The hot path writes the same JSON with orjson (stats.service); tests validate every report's
bytes against these models, and /openapi.json shows them. Rates, means and changes are derived
metrics (stats.metrics): computed from the unrounded measures, then rounded, so they are
documented fields here rather than recomputed from the rounded numbers.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from sightline.stats.metrics import JSON_TYPES, METRICS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def metric_field(name: str, optional: bool = False) -> Any:
    metric = METRICS[name]
    kind: Any = JSON_TYPES[metric.unit]
    description = f"{metric.description} ({metric.unit})"
    if optional:
        return kind | None, Field(None, description=description)
    return kind, Field(description=description)


def list_row(model_name: str, key: str, names: tuple[str, ...]) -> type[BaseModel]:
    """A row of a list report: the value of its dimension, then its metrics."""
    return create_model(model_name, __base__=Strict,  # type: ignore[call-overload,no-any-return]
                        **{key: (str, Field(description=f"The {key.replace('_', ' ')}"))},
                        **{name: metric_field(name) for name in names})


def metrics_row(model_name: str, names: tuple[str, ...], fields: dict[str, Any],
                extra: bool = False) -> type[BaseModel]:
    """A row where only the requested metrics are present; `extra` allows the dimension key of
    a breakdown row (named after the dimension)."""
    config = ConfigDict(extra="allow" if extra else "forbid")
    return create_model(model_name, __config__=config,  # type: ignore[call-overload,no-any-return]
                        **fields, **{name: metric_field(name, optional=True) for name in names})


class MetricValue(Strict):
    value: int | float
    previous: int | float | None = Field(None, description="With compare: the compared value")
    change: float | None = Field(None, description="With compare: % change of the unrounded "
                                                   "values; null when previous is 0")


Overview = create_model("Overview", __base__=Strict,  # type: ignore[call-overload]
                        **{name: (MetricValue, ...) for name in (
                            "visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                            "visit_duration", "events", "revenue")})


class Revenue(Strict):
    revenue: float
    orders: int
    paying_visitors: int
    average_order_value: float = Field(description="revenue / orders")
    arpu: float = Field(description="revenue / visitors")


class VitalsRow(Strict):
    page: str
    samples: int = Field(description="web_vitals events of this page with the metric")
    p50: int | float = Field(description="Median (nearest rank); ms, cls unitless")
    p75: int | float = Field(description="75th percentile (nearest rank)")
    p95: int | float = Field(description="95th percentile (nearest rank)")


class FunnelStep(Strict):
    step: int
    label: str = Field(description="page:/path or event:name")
    visitors: int = Field(description="Visitors reaching this step in order within the window")
    conversion_rate: float = Field(description="% of the first step's visitors")
    dropoff: int = Field(description="Visitors of the previous step who did not reach this one")


class RetentionCohort(Strict):
    cohort: str = Field(description="First day of the cohort's period")
    size: int
    retention: list[int] = Field(description="Visitors of the cohort active in each period")
    rates: list[float] = Field(description="retention / size, in %")


class ActiveDay(Strict):
    date: str
    dau: int
    wau: int
    mau: int


class ActiveUsers(Strict):
    days: list[ActiveDay]
    stickiness: float = Field(description="Mean of dau / mau over the days with mau > 0, in %")


class RealtimePage(Strict):
    page: str
    visitors: int
    pageviews: int


class Realtime(Strict):
    visitors: int
    pageviews: int
    pages: list[RealtimePage]


class FilterOut(Strict):
    dimension: str
    operator: str
    values: list[str]


class Meta(Strict):
    """The normalized query (what the cache key hashes) and the freshness of the numbers."""

    report: str
    date_from: str
    date_to: str
    tz: str
    filters: list[FilterOut] | None = None
    metrics: list[str] | None = None
    dimension: str | None = None
    interval: str | None = None
    compare: str | None = None
    limit: int
    page: int
    source: str | None = None
    event: str | None = None
    steps: list[str] | None = None
    window: str | None = None
    periods: int | None = None
    vital: str | None = Field(None, description="vitals: the metric (lcp, inp, cls or ttfb)")
    period: str | None = None
    computed_at: str | None = None
    watermark: str | None = None
    data_version: int | None = None


def response_model(report_name: str, results: Any) -> type[BaseModel]:
    title = "".join(part.title() for part in report_name.replace("/", "-").replace("_", "-")
                    .split("-"))
    return create_model(f"{title}Response", __base__=Strict,  # type: ignore[call-overload,no-any-return]
                        results=(results, ...), meta=(Meta, ...))

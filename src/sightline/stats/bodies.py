"""The JSON query object of `POST .../query` and of dashboard widgets, documented for /docs.

Bodies stay plain objects at run time: `stats.params` validates them like the GET parameters,
so a bad field is a 400 that names it (`widgets.1.query.limit`).
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from sightline.stats.reports import NAMES
from sightline.stats.query import COMPARISONS, FUNNEL_WINDOWS, INTERVALS, PERIODS

Period = Literal[PERIODS]  # type: ignore[valid-type]
Interval = Literal[INTERVALS]  # type: ignore[valid-type]
Comparison = Literal[COMPARISONS]  # type: ignore[valid-type]
Window = Literal[tuple(FUNNEL_WINDOWS)]  # type: ignore[valid-type]
QUERY_EXAMPLES = [
    {"report": "pages", "period": "30d", "limit": 10},
    {"report": "timeseries", "date_from": "2026-11-01", "date_to": "2026-11-30",
     "interval": "day", "metrics": ["visitors", "pageviews"], "filters": ["country==DE"]},
    {"report": "funnel", "period": "7d", "step": ["page:/pricing", "event:Signup"],
     "window": "1d"},
]


class QueryObject(BaseModel):
    """A stats query: the report and the same parameters its GET route takes."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": QUERY_EXAMPLES})
    report: str = Field(description="One of: " + ", ".join(NAMES) + ", or properties/<key>",
                        examples=["pages"])
    period: Period | None = None
    date_from: date | None = Field(default=None, description="With date_to, instead of period")
    date_to: date | None = None
    tz: str | None = Field(default=None, description="IANA zone; default the project's",
                           examples=["Europe/Berlin"])
    filters: list[str] | str | None = Field(default=None, examples=[["country==DE"]],
                                            description="Conditions ANDed together")
    compare: Comparison | None = None
    limit: int | None = Field(default=None, ge=1, le=1000)
    page: int | None = Field(default=None, ge=1)
    metrics: list[str] | str | None = Field(default=None, examples=[["visitors", "pageviews"]])
    interval: Interval | None = None
    dimension: str | None = Field(default=None, description="breakdown: the dimension",
                                  examples=["country"])
    source: str | None = Field(default=None, description="referrers: the source")
    event: str | None = Field(default=None, description="properties: the event name")
    step: list[str] | None = Field(default=None, description="funnel: steps in order, each "
                                   "page:<path> or event:<name>",
                                   examples=[["page:/pricing", "event:Signup"]])
    window: Window | None = None
    periods: int | None = Field(default=None, description="retention: cohort periods")


QueryBody = Annotated[dict[str, Any], WithJsonSchema(QueryObject.model_json_schema())]

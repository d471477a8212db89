"""Dashboards, widgets and share links: request and response bodies."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sightline.stats.bodies import QueryBody

Visualization = Literal["number", "line", "bar", "table", "funnel", "cohort"]
MAX_WIDGETS = 100


WIDGET_EXAMPLE = {"title": "Top pages", "visualization": "table",
                  "query": {"report": "pages", "limit": 10}}


class WidgetIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [WIDGET_EXAMPLE]})
    title: str = Field(min_length=1, max_length=200)
    visualization: Visualization | None = Field(
        default=None, description="Default: from the report (number, line, table, …)")
    query: QueryBody


class WidgetItem(WidgetIn):
    """A widget in a dashboard's new widget list: `id` keeps (and updates) an existing one."""

    id: str | None = None


class WidgetUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Pages this week",
                                                               "query": {"report": "pages",
                                                                         "period": "7d"}}]})
    title: str | None = Field(default=None, min_length=1, max_length=200)
    visualization: Visualization | None = None
    query: QueryBody | None = None


class WidgetOrder(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"widget_ids": ["w_2", "w_1"]}]})
    widget_ids: list[str] = Field(max_length=MAX_WIDGETS)


class DashboardCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Marketing", "widgets": [
            WIDGET_EXAMPLE,
            {"title": "Visitors", "query": {"report": "timeseries", "period": "30d"}}]}]})
    name: str = Field(min_length=1, max_length=200)
    widgets: list[WidgetIn] = Field(default_factory=list, max_length=MAX_WIDGETS)


class DashboardUpdate(BaseModel):
    """`widgets`, when given, is the whole new list in order; widgets left out are deleted."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Marketing (weekly)"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    widgets: list[WidgetItem] | None = Field(default=None, max_length=MAX_WIDGETS)


class WidgetOut(BaseModel):
    id: str
    title: str
    visualization: str
    position: int
    query: dict[str, Any]


class DashboardOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    widgets: list[WidgetOut]


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"expires_at": "2027-01-31T23:59:59Z"}, {}]})
    expires_at: AwareDatetime | None = Field(
        default=None, description="After this instant the link answers 404; none: until revoked")


class ShareCreated(BaseModel):
    id: str
    dashboard_id: str
    token: str = Field(description="Shown once; only its SHA-256 is stored")
    url: str = Field(description="The dashboard's JSON, without a key")
    page_url: str = Field(description="The dashboard as a read-only web page")
    created_at: datetime
    expires_at: datetime | None


class ShareOut(BaseModel):
    id: str
    dashboard_id: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None

"""Dashboards, widgets and share links: request and response bodies."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Visualization = Literal["number", "line", "bar", "table", "funnel", "cohort"]
MAX_WIDGETS = 100


class WidgetIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    visualization: Visualization | None = None
    query: dict[str, Any]


class WidgetItem(WidgetIn):
    """A widget in a dashboard's new widget list: `id` keeps (and updates) an existing one."""

    id: str | None = None


class WidgetUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    visualization: Visualization | None = None
    query: dict[str, Any] | None = None


class WidgetOrder(BaseModel):
    widget_ids: list[str] = Field(max_length=MAX_WIDGETS)


class DashboardCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    widgets: list[WidgetIn] = Field(default_factory=list, max_length=MAX_WIDGETS)


class DashboardUpdate(BaseModel):
    """`widgets`, when given, is the whole new list in order; widgets left out are deleted."""

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


class ShareCreated(BaseModel):
    id: str
    dashboard_id: str
    token: str = Field(description="Shown once; only its SHA-256 is stored")
    url: str
    created_at: datetime


class ShareOut(BaseModel):
    id: str
    dashboard_id: str
    created_at: datetime
    revoked_at: datetime | None

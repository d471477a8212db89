"""Dashboards and widgets: saved stats queries, evaluated together through the stats service.

A widget's `query` is a JSON query object as `POST .../query` takes it, validated on save. Loading
a dashboard runs every widget's query in one `compute_many` call, under one cache entry.
"""

import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from sightline.auth.keys import hash_key
from sightline.cache.service import respond
from sightline.dashboards import queries
from sightline.dashboards.schemas import (
    MAX_WIDGETS, DashboardCreate, DashboardOut, DashboardUpdate, ShareCreate, ShareCreated,
    ShareOut, WidgetIn, WidgetOrder, WidgetOut, WidgetUpdate,
)
from sightline.ids import new_id
from sightline.models import Dashboard, ShareToken, Widget
from sightline.problems import BodyInvalid, InvalidParameter, NotFound
from sightline.projects import service as projects
from sightline.stats import reports as stats_reports
from sightline.stats import service as stats
from sightline.stats.params import collect, parse_query
from sightline.stats.query import StatsQuery
from sightline.state import app_state

DASHBOARD_PARAMS = frozenset({"date_from", "date_to", "period", "tz", "filters"})
RANGE_PARAMS = ("date_from", "date_to", "period")
SHARE_PREFIX = "sl_share_"
Span = tuple[datetime, datetime] | None


# Widget queries -----------------------------------------------------------------------------

def parse_widget_query(query: dict[str, Any], timezone: str, now: datetime,
                       overrides: dict[str, str] | None = None) -> StatsQuery:
    """The StatsQuery of a widget, with the dashboard-level parameters applied: a range or a time
    zone given there replaces the widget's own, filters are ANDed with the widget's."""
    report, items = stats.query_object_items(query)
    if overrides:
        items = merge_params(items, overrides)
    return parse_query(report, items, timezone, now)


def merge_params(items: list[tuple[str, Any]], overrides: dict[str, str]) -> list[tuple[str, Any]]:
    replaced = {name for name in overrides if name != "filters"}
    if replaced & set(RANGE_PARAMS):
        replaced |= set(RANGE_PARAMS)
    merged = [(name, value) for name, value in items if name not in replaced]
    extra = overrides.get("filters")
    if extra:
        own = next((value for name, value in merged if name == "filters"), None)
        merged = [(name, value) for name, value in merged if name != "filters"]
        merged.append(("filters", f"{own};{extra}" if own else extra))
    merged += [(name, value) for name, value in overrides.items() if name != "filters"]
    return merged


def check_widget_query(query: dict[str, Any], timezone: str, field: str) -> str:
    """Validate a widget's query on save; a problem names the field (`widgets.2.query.limit`).
    Returns the report name."""
    try:
        return parse_widget_query(query, timezone, datetime.now(UTC)).report
    except InvalidParameter as exc:
        name = f"{field}.{exc.members.get('parameter', '')}".rstrip(".")
        raise InvalidParameter(name, f"{name}: {exc.detail}", exc.members.get("allowed")) from None


def dashboard_params(items: Iterable[tuple[str, Any]], timezone: str, now: datetime) -> dict[str, str]:
    """The dashboard-level parameters of a request, validated on their own (400 names them)."""
    params = {name: str(value) for name, value in collect(items, DASHBOARD_PARAMS).items()}
    parse_query("overview", params.items(), timezone, now)
    return params


def widget_queries(widgets: list[Widget], params: dict[str, str], timezone: str,
                   now: datetime) -> list[StatsQuery]:
    parsed = []
    for widget in widgets:
        try:
            parsed.append(parse_widget_query(widget.query, timezone, now, params))
        except InvalidParameter as exc:
            raise InvalidParameter(
                exc.members.get("parameter", ""),
                f"widget {widget.id} ({widget.title}): {exc.detail}", exc.members.get("allowed"),
            ) from None
    return parsed


def union_span(spans: Sequence[Span]) -> Span:
    if not spans or any(span is None for span in spans):
        return None
    starts, ends = zip(*spans, strict=True)  # type: ignore[misc]
    return min(starts), max(ends)


# Shapes -------------------------------------------------------------------------------------

def sorted_widgets(dashboard: Dashboard) -> list[Widget]:
    return sorted(dashboard.widgets, key=lambda w: (w.position, w.id))


def widget_out(widget: Widget) -> WidgetOut:
    return WidgetOut(id=widget.id, title=widget.title, visualization=widget.visualization,
                     position=widget.position, query=widget.query)


def dashboard_out(dashboard: Dashboard) -> DashboardOut:
    return DashboardOut(id=dashboard.id, name=dashboard.name, created_at=dashboard.created_at,
                        updated_at=dashboard.updated_at,
                        widgets=[widget_out(w) for w in sorted_widgets(dashboard)])


# Use cases ----------------------------------------------------------------------------------

async def load_dashboards(db: AsyncSession, project_id: str) -> list[Dashboard]:
    return list((await db.execute(queries.select_dashboards(project_id))).scalars())


async def load_dashboards_by_id(db: AsyncSession, project_id: str,
                                dashboard_ids: list[str]) -> list[Dashboard]:
    statement = queries.select_dashboards_by_id(project_id, dashboard_ids)
    return list((await db.execute(statement)).scalars())


async def load_dashboard(db: AsyncSession, project_id: str, dashboard_id: str) -> Dashboard:
    statement = queries.select_dashboard(project_id, dashboard_id)
    dashboard = (await db.execute(statement)).scalar_one_or_none()
    if dashboard is None:
        raise NotFound(f"Dashboard {dashboard_id} not found")
    return dashboard


async def list_dashboards(db: AsyncSession, project_id: str) -> list[DashboardOut]:
    return [dashboard_out(d) for d in await load_dashboards(db, project_id)]


def new_widget(project_id: str, dashboard_id: str, widget: WidgetIn, report: str,
               position: int) -> Widget:
    visualization = widget.visualization or stats_reports.report(report).visualization
    return Widget(project_id=project_id, id=new_id("w"), dashboard_id=dashboard_id,
                  title=widget.title, visualization=visualization, query=widget.query,
                  position=position)


async def create_dashboard(db: AsyncSession, project_id: str, body: DashboardCreate) -> DashboardOut:
    timezone = (await projects.get_project(db, project_id)).timezone
    reports = [check_widget_query(w.query, timezone, f"widgets.{i}.query")
               for i, w in enumerate(body.widgets)]
    now = datetime.now(UTC)
    dashboard = Dashboard(project_id=project_id, id=new_id("d"), name=body.name,
                          created_at=now, updated_at=now)
    dashboard.widgets = [new_widget(project_id, dashboard.id, w, report, i)
                         for i, (w, report) in enumerate(zip(body.widgets, reports, strict=True))]
    db.add(dashboard)
    await db.flush()
    return dashboard_out(dashboard)


async def update_dashboard(db: AsyncSession, project_id: str, dashboard_id: str,
                           body: DashboardUpdate) -> DashboardOut:
    dashboard = await load_dashboard(db, project_id, dashboard_id)
    if body.name is not None:
        dashboard.name = body.name
    if body.widgets is not None:
        timezone = (await projects.get_project(db, project_id)).timezone
        existing = {w.id: w for w in dashboard.widgets}
        widgets: list[Widget] = []
        for i, item in enumerate(body.widgets):
            report = check_widget_query(item.query, timezone, f"widgets.{i}.query")
            if item.id is None:
                widgets.append(new_widget(project_id, dashboard_id, item, report, i))
                continue
            widget = existing.pop(item.id, None)
            if widget is None:
                raise InvalidParameter(f"widgets.{i}.id",
                                       f"widget {item.id} is not in this dashboard (or is repeated)")
            widget.title, widget.query, widget.position = item.title, item.query, i
            if item.visualization is not None:
                widget.visualization = item.visualization
            widgets.append(widget)
        dashboard.widgets = widgets
    dashboard.updated_at = datetime.now(UTC)
    await db.flush()
    return dashboard_out(dashboard)


async def delete_dashboard(db: AsyncSession, project_id: str, dashboard_id: str) -> None:
    result = await db.execute(queries.delete_dashboard(project_id, dashboard_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"Dashboard {dashboard_id} not found")


async def add_widget(db: AsyncSession, project_id: str, dashboard_id: str,
                     body: WidgetIn) -> WidgetOut:
    dashboard = await load_dashboard(db, project_id, dashboard_id)
    if len(dashboard.widgets) >= MAX_WIDGETS:
        raise BodyInvalid([{"index": None, "field": "widgets", "message":
                            f"a dashboard holds at most {MAX_WIDGETS} widgets"}])
    timezone = (await projects.get_project(db, project_id)).timezone
    report = check_widget_query(body.query, timezone, "query")
    position = max((w.position for w in dashboard.widgets), default=-1) + 1
    widget = new_widget(project_id, dashboard_id, body, report, position)
    dashboard.widgets.append(widget)
    dashboard.updated_at = datetime.now(UTC)
    await db.flush()
    return widget_out(widget)


def find_widget(dashboard: Dashboard, widget_id: str) -> Widget:
    widget = next((w for w in dashboard.widgets if w.id == widget_id), None)
    if widget is None:
        raise NotFound(f"Widget {widget_id} not found")
    return widget


async def update_widget(db: AsyncSession, project_id: str, dashboard_id: str, widget_id: str,
                        body: WidgetUpdate) -> WidgetOut:
    dashboard = await load_dashboard(db, project_id, dashboard_id)
    widget = find_widget(dashboard, widget_id)
    if body.query is not None:
        timezone = (await projects.get_project(db, project_id)).timezone
        check_widget_query(body.query, timezone, "query")
        widget.query = body.query
    if body.title is not None:
        widget.title = body.title
    if body.visualization is not None:
        widget.visualization = body.visualization
    dashboard.updated_at = datetime.now(UTC)
    await db.flush()
    return widget_out(widget)


async def delete_widget(db: AsyncSession, project_id: str, dashboard_id: str,
                        widget_id: str) -> None:
    dashboard = await load_dashboard(db, project_id, dashboard_id)
    dashboard.widgets.remove(find_widget(dashboard, widget_id))
    for position, widget in enumerate(sorted_widgets(dashboard)):
        widget.position = position
    dashboard.updated_at = datetime.now(UTC)
    await db.flush()


async def reorder_widgets(db: AsyncSession, project_id: str, dashboard_id: str,
                          body: WidgetOrder) -> DashboardOut:
    dashboard = await load_dashboard(db, project_id, dashboard_id)
    by_id = {w.id: w for w in dashboard.widgets}
    if sorted(body.widget_ids) != sorted(by_id):
        raise InvalidParameter("widget_ids", "widget_ids must list every widget of the dashboard "
                               "exactly once", allowed=sorted(by_id))
    for position, widget_id in enumerate(body.widget_ids):
        by_id[widget_id].position = position
    dashboard.updated_at = datetime.now(UTC)
    await db.flush()
    return dashboard_out(dashboard)


# Serving a dashboard with its data ------------------------------------------------------------

async def load_shared(request: Request, key: tuple[str, ...],
                      load: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Load with a short-lived session; concurrent identical loads share one query."""
    state = app_state(request)

    async def run() -> Any:
        async with state.sessionmaker() as db:
            return await load(db)

    return await state.dashboard_loads.get_or_load(key, run)


async def serve_dashboard(request: Request, project_id: str, dashboard_id: str,
                          items: Iterable[tuple[str, Any]],
                          widget_id: str | None = None) -> Response:
    """The dashboard and every widget's data (or one widget and its data) for the request's
    dashboard-level parameters, through the cache (one entry for the whole answer). The
    dashboard is read with a short-lived session, so no pooled connection is held while the
    widgets are computed, and a project computes only a few dashboards at a time (the others
    wait, holding nothing)."""
    project = await projects.cached_project(request, project_id)
    now = datetime.now(UTC)
    params = dashboard_params(items, project.timezone, now)
    dashboard = await load_shared(request, ("dashboard", project_id, dashboard_id),
                                  lambda db: load_dashboard(db, project_id, dashboard_id))
    widgets = [find_widget(dashboard, widget_id)] if widget_id else sorted_widgets(dashboard)
    parsed = widget_queries(widgets, params, project.timezone, now)
    key = {
        "dashboard": dashboard.id, "updated_at": dashboard.updated_at.isoformat(),
        "params": params,
        "widgets": [{"id": w.id, "title": w.title, "visualization": w.visualization,
                     "position": w.position, "query": q.meta()}
                    for w, q in zip(widgets, parsed, strict=True)],
    }
    span = union_span([stats.dependency_span(q) for q in parsed])
    out = (widget_out(widgets[0]) if widget_id else dashboard_out(dashboard)).model_dump(mode="json")
    targets = [out] if widget_id else out["widgets"]

    async def compute() -> dict[str, Any]:
        async with app_state(request).dashboard_gates.hold(project_id):
            data = await stats.compute_many(request, project_id, parsed, now)
        for target, widget_data in zip(targets, data, strict=True):
            target["data"] = widget_data
        return {**out, "meta": {"params": params}}

    return await respond(request, project_id, "widget" if widget_id else "dashboard", key, span,
                         compute)


# Share links ----------------------------------------------------------------------------------

def new_share_token() -> str:
    return SHARE_PREFIX + secrets.token_urlsafe(32)


async def create_share(db: AsyncSession, project_id: str, dashboard_id: str,
                       body: ShareCreate) -> ShareCreated:
    if (await db.execute(queries.select_dashboard_exists(project_id, dashboard_id))).first() is None:
        raise NotFound(f"Dashboard {dashboard_id} not found")
    now = datetime.now(UTC)
    if body.expires_at is not None and body.expires_at <= now:
        raise BodyInvalid([{"field": "expires_at", "location": "body",
                            "message": "expires_at must be in the future", "type": "value_error"}])
    token = new_share_token()
    share = ShareToken(project_id=project_id, id=new_id("s"), dashboard_id=dashboard_id,
                       token_hash=hash_key(token), created_at=now, expires_at=body.expires_at)
    db.add(share)
    await db.flush()
    return ShareCreated(id=share.id, dashboard_id=dashboard_id, token=token,
                        url=f"/api/v1/shared/{token}", page_url=f"/share/{token}",
                        created_at=share.created_at, expires_at=share.expires_at)


async def list_shares(db: AsyncSession, project_id: str, dashboard_id: str) -> list[ShareOut]:
    if (await db.execute(queries.select_dashboard_exists(project_id, dashboard_id))).first() is None:
        raise NotFound(f"Dashboard {dashboard_id} not found")
    shares = (await db.execute(queries.select_shares(project_id, dashboard_id))).scalars()
    return [ShareOut(id=s.id, dashboard_id=s.dashboard_id, created_at=s.created_at,
                     revoked_at=s.revoked_at, expires_at=s.expires_at) for s in shares]


async def revoke_share(db: AsyncSession, project_id: str, dashboard_id: str, share_id: str) -> None:
    result = await db.execute(queries.revoke_share(project_id, dashboard_id, share_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"Share {share_id} not found")


async def serve_shared(request: Request, token: str,
                       items: Iterable[tuple[str, Any]]) -> Response:
    """A shared dashboard, for whoever holds an unrevoked, unexpired token (checked on every
    request; a burst of requests with one token shares the check)."""
    project_id, dashboard_id = await load_shared(request, ("share", hash_key(token).hex()),
                                                 lambda db: find_share(db, token))
    return await serve_dashboard(request, project_id, dashboard_id, items)


async def find_share(db: AsyncSession, token: str) -> tuple[str, str]:
    """(project, dashboard) of an unrevoked, unexpired share token."""
    row = (await db.execute(queries.select_active_share(hash_key(token)))).first()
    if row is None:
        raise NotFound("Shared dashboard not found (the link may have expired or been revoked)")
    return row.project_id, row.dashboard_id

"""The `Stats` GraphQL type: every report of SPEC section 4 as a typed field over the stats
service. Fields share the common parameters given to `Project.stats`; every stats field of an
operation is computed in one batch (see loaders), and only the selected metrics are asked for
where the report takes a metric list (timeseries, breakdown)."""

import re
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from sightline.graphql import types as t
from sightline.problems import InvalidParameter
from sightline.stats.params import parse_query
from sightline.stats.query import (
    BREAKDOWN_EVENT_METRICS, BREAKDOWN_SESSION_METRICS, TIMESERIES_METRICS, is_session_dimension,
)

Limit = int | None
BREAKDOWN_METRICS = (*BREAKDOWN_SESSION_METRICS, *BREAKDOWN_EVENT_METRICS)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def selected_names(selections: list[Selection]) -> set[str]:
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(snake(selection.name))
        else:  # a fragment
            names |= selected_names(selection.selections)
    return names


def selected_metrics(info: Info, allowed: tuple[str, ...],
                     possible: tuple[str, ...] = ()) -> str:
    """The metrics the client selected on this field's rows (at least `visitors`); selecting
    one of `possible` that is not `allowed` here is an invalid `metrics` parameter."""
    names = set().union(*(selected_names(f.selections) for f in info.selected_fields))
    refused = [m for m in possible if m in names and m not in allowed]
    if refused:
        raise InvalidParameter("metrics", f"metric {refused[0]!r} is not available here",
                               allowed=list(allowed))
    chosen = [m for m in allowed if m in names] or ["visitors"]
    return ",".join(chosen)


def argument_items(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for name, value in arguments.items():
        if value is None:
            continue
        if isinstance(value, list):
            items += [(name, str(v)) for v in value]
        else:
            items.append((name, value.value if isinstance(value, Enum) else str(value)))
    return items


@strawberry.type(description="Stats of one project for the range and filters given to `stats`")
class Stats:
    project_id: strawberry.Private[str]
    timezone: strawberry.Private[str]
    params: strawberry.Private[list[tuple[str, str]]]

    async def run(self, info: Info, report: str, **arguments: Any) -> Any:
        items = [*self.params, *argument_items(arguments)]
        query = parse_query(report, items, self.timezone, info.context.now)
        data = await info.context.loaders.stats.load((self.project_id, query))
        return data["results"]

    @strawberry.field
    async def overview(self, info: Info, compare: t.Comparison | None = None) -> t.Overview:
        results = await self.run(info, "overview", compare=compare)
        return t.Overview(**{name: t.MetricValue(**value) for name, value in results.items()})

    @strawberry.field
    async def timeseries(self, info: Info, interval: t.Interval = t.Interval.DAY,
                         ) -> list[t.TimeseriesPoint]:
        metrics = selected_metrics(info, TIMESERIES_METRICS)
        return t.rows_as(t.TimeseriesPoint,
                         await self.run(info, "timeseries", interval=interval, metrics=metrics))

    @strawberry.field
    async def breakdown(self, info: Info, dimension: str, limit: Limit = None,
                        page: Limit = None) -> list[t.BreakdownRow]:
        allowed = (BREAKDOWN_SESSION_METRICS if is_session_dimension(dimension)
                   else BREAKDOWN_EVENT_METRICS)
        rows = await self.run(info, "breakdown", dimension=dimension, limit=limit, page=page,
                              metrics=selected_metrics(info, allowed, BREAKDOWN_METRICS))
        return t.rows_as(t.BreakdownRow, rows, key=dimension)

    @strawberry.field
    async def pages(self, info: Info, limit: Limit = None, page: Limit = None) -> list[t.PageRow]:
        return t.rows_as(t.PageRow, await self.run(info, "pages", limit=limit, page=page))

    @strawberry.field
    async def entry_pages(self, info: Info, limit: Limit = None,
                          page: Limit = None) -> list[t.EntryPageRow]:
        return t.rows_as(t.EntryPageRow,
                         await self.run(info, "entry-pages", limit=limit, page=page))

    @strawberry.field
    async def exit_pages(self, info: Info, limit: Limit = None,
                         page: Limit = None) -> list[t.ExitPageRow]:
        return t.rows_as(t.ExitPageRow, await self.run(info, "exit-pages", limit=limit, page=page))

    @strawberry.field
    async def sources(self, info: Info, limit: Limit = None,
                      page: Limit = None) -> list[t.SourceRow]:
        return t.rows_as(t.SourceRow, await self.run(info, "sources", limit=limit, page=page))

    @strawberry.field
    async def referrers(self, info: Info, source: str, limit: Limit = None,
                        page: Limit = None) -> list[t.DimensionRow]:
        rows = await self.run(info, "referrers", source=source, limit=limit, page=page)
        return t.rows_as(t.DimensionRow, rows, key="referrer")

    @strawberry.field
    async def utm(self, info: Info, param: t.UtmParam, limit: Limit = None,
                  page: Limit = None) -> list[t.UtmRow]:
        rows = await self.run(info, f"utm/{param.value}", limit=limit, page=page)
        return t.rows_as(t.UtmRow, rows, key=param.value)

    async def dimension(self, info: Info, report: str, key: str, limit: Limit,
                        page: Limit) -> list[t.DimensionRow]:
        return t.rows_as(t.DimensionRow, await self.run(info, report, limit=limit, page=page),
                         key=key)

    @strawberry.field
    async def countries(self, info: Info, limit: Limit = None,
                        page: Limit = None) -> list[t.DimensionRow]:
        return await self.dimension(info, "countries", "country", limit, page)

    @strawberry.field
    async def devices(self, info: Info, limit: Limit = None,
                      page: Limit = None) -> list[t.DimensionRow]:
        return await self.dimension(info, "devices", "device", limit, page)

    @strawberry.field
    async def browsers(self, info: Info, limit: Limit = None,
                       page: Limit = None) -> list[t.DimensionRow]:
        return await self.dimension(info, "browsers", "browser", limit, page)

    @strawberry.field
    async def os(self, info: Info, limit: Limit = None, page: Limit = None) -> list[t.DimensionRow]:
        return await self.dimension(info, "os", "os", limit, page)

    @strawberry.field
    async def events(self, info: Info, limit: Limit = None,
                     page: Limit = None) -> list[t.EventRow]:
        return t.rows_as(t.EventRow, await self.run(info, "events", limit=limit, page=page))

    @strawberry.field
    async def properties(self, info: Info, key: str, event: str | None = None,
                         limit: Limit = None, page: Limit = None) -> list[t.PropertyRow]:
        rows = await self.run(info, f"properties/{key}", event=event, limit=limit, page=page)
        return t.rows_as(t.PropertyRow, rows)

    @strawberry.field
    async def goals(self, info: Info, limit: Limit = None, page: Limit = None) -> list[t.GoalRow]:
        return t.rows_as(t.GoalRow, await self.run(info, "goals", limit=limit, page=page))

    @strawberry.field(description="steps as page:/path or event:name (2 to 8)")
    async def funnel(self, info: Info, steps: list[str],
                     window: str | None = None) -> list[t.FunnelStep]:
        return t.rows_as(t.FunnelStep, await self.run(info, "funnel", step=steps, window=window))

    @strawberry.field
    async def retention(self, info: Info, interval: t.Interval | None = None,
                        periods: int | None = None) -> list[t.RetentionCohort]:
        rows = await self.run(info, "retention", interval=interval, periods=periods)
        return t.rows_as(t.RetentionCohort, rows)

    @strawberry.field
    async def active_users(self, info: Info) -> t.ActiveUsers:
        results = await self.run(info, "active-users")
        return t.ActiveUsers(days=t.rows_as(t.ActiveDay, results["days"]),
                             stickiness=results["stickiness"])

    @strawberry.field
    async def realtime(self, info: Info) -> t.Realtime:
        results = await self.run(info, "realtime")
        return t.Realtime(visitors=results["visitors"], pageviews=results["pageviews"],
                          pages=t.rows_as(t.PageRow, results["pages"]))

    @strawberry.field
    async def revenue(self, info: Info) -> t.Revenue:
        return t.Revenue(**await self.run(info, "revenue"))

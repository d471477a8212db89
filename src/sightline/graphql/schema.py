"""`/graphql`: projects, dashboards, widgets and every stats report, over the same services and
dependencies (key, session) as the REST routes. Read-only; a key sees only its own project."""

from datetime import datetime
from typing import Any

import strawberry
from cross_web import HTTPException
from strawberry.extensions import (
    AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter,
)
from strawberry.fastapi import GraphQLRouter
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.unset import UNSET

from sightline.dashboards import service as dashboards
from sightline.graphql.context import get_context
from sightline.graphql.limits import CostLimit, ProblemErrors
from sightline.graphql.stats import Stats, argument_items
from sightline.models import Dashboard as DashboardRow
from sightline.problems import AppError
from sightline.stats.params import parse_query

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000


@strawberry.type
class WidgetData:
    results: JSON
    meta: JSON


@strawberry.type
class Widget:
    id: strawberry.ID
    title: str
    visualization: str
    position: int
    query: JSON
    project_id: strawberry.Private[str]
    timezone: strawberry.Private[str]

    @strawberry.field(description="The widget's results; the arguments override its range and "
                                  "time zone, and filters are ANDed with its own")
    async def data(self, info: Info, date_from: str | None = None, date_to: str | None = None,
                   period: str | None = None, tz: str | None = None,
                   filters: str | None = None) -> WidgetData:
        params = dict(argument_items({"date_from": date_from, "date_to": date_to,
                                      "period": period, "tz": tz, "filters": filters}))
        query = dashboards.parse_widget_query(self.query, self.timezone, info.context.now, params)
        result = await info.context.loaders.stats.load((self.project_id, query))
        return WidgetData(results=result["results"], meta=result["meta"])


@strawberry.type
class Dashboard:
    id: strawberry.ID
    name: str
    created_at: datetime
    updated_at: datetime
    widgets: list[Widget]
    project_id: strawberry.Private[str]

    @strawberry.field
    async def project(self, info: Info) -> "Project":
        return await load_project(info, self.project_id)

    @classmethod
    def of(cls, row: DashboardRow, timezone: str) -> "Dashboard":
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at,
                   updated_at=row.updated_at, project_id=row.project_id, widgets=[
                       Widget(id=strawberry.ID(w.id), title=w.title,
                              visualization=w.visualization, position=w.position, query=w.query,
                              project_id=row.project_id, timezone=timezone)
                       for w in dashboards.sorted_widgets(row)])


@strawberry.type
class Goal:
    id: strawberry.ID
    name: str
    event: str | None
    page: str | None


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    timezone: str

    @strawberry.field
    async def goals(self, info: Info) -> list[Goal]:
        goals = await info.context.loaders.goals.load(self.id)
        return [Goal(id=strawberry.ID(g.id), name=g.name, event=g.event, page=g.page)
                for g in goals]

    @strawberry.field
    async def dashboards(self, info: Info) -> list[Dashboard]:
        rows = await info.context.loaders.dashboards.load(self.id)
        return [Dashboard.of(row, self.timezone) for row in rows]

    @strawberry.field
    async def dashboard(self, info: Info, id: strawberry.ID) -> Dashboard | None:
        row = await info.context.loaders.dashboard.load((self.id, str(id)))
        return Dashboard.of(row, self.timezone) if row is not None else None

    @strawberry.field(description="Stats for a range (date_from and date_to, or period; default "
                                  "30d), time zone and filters, as the REST parameters")
    def stats(self, info: Info, date_from: str | None = None, date_to: str | None = None,
              period: str | None = None, tz: str | None = None,
              filters: str | None = None) -> Stats:
        params = argument_items({"date_from": date_from, "date_to": date_to, "period": period,
                                 "tz": tz, "filters": filters})
        parse_query("overview", params, self.timezone, info.context.now)  # 400-style errors here
        return Stats(project_id=self.id, timezone=self.timezone, params=params)


async def load_project(info: Info, project_id: str) -> Project:
    project = await info.context.loaders.project.load(info.context.project_id(project_id))
    return Project(id=strawberry.ID(project.id), name=project.name, timezone=project.timezone)


@strawberry.type
class Query:
    @strawberry.field(description="A project the key belongs to (any other: NOT_FOUND)")
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        return await load_project(info, str(id))

    @strawberry.field(description="The projects the key may read (its own)")
    async def projects(self, info: Info) -> list[Project]:
        return [await load_project(info, info.context.principal.project_id)]


schema = strawberry.Schema(query=Query, extensions=[
    lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
    lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    lambda: AddValidationRules([CostLimit]),
    ProblemErrors,
])
class BadGraphQLRequest(AppError):
    title, slug = "Bad GraphQL request", "graphql-request"

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status


class ProblemGraphQLRouter(GraphQLRouter[Any, None]):
    """Strawberry answers a request it cannot read (no query, wrong content type, a mutation
    over GET) in plain text; here it is problem+json like every other error."""

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            raise BadGraphQLRequest(error.status_code, error.reason) from None


router = ProblemGraphQLRouter(
    schema, path="/graphql", context_getter=get_context, graphql_ide=None,
    subscription_protocols=(), tags=["graphql"],
    responses={400: {"description": "Not a GraphQL request (no query, wrong content type)"},
               401: {"description": "No key, or an unknown one"}},
)

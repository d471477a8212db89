"""The stats routes: one GET route per registry entry (utm and properties take a path
parameter), and `POST .../query`; each is one service call. Their query parameters and response
models in OpenAPI come from the registry."""

import inspect
from typing import Any, Union

from fastapi import APIRouter, Request
from starlette.responses import Response

from sightline.auth.deps import ReadKey
from sightline.exports import CSV_CONTENT, FORMAT_PARAMETER, query_items
from sightline.stats import service
from sightline.stats.bodies import QueryBody
from sightline.stats.reports import ENTRIES, NAMES, Param, Report

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["stats"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid parameter (problem+json names it)"},
    401: {"description": "No or unknown key"}, 403: {"description": "Wrong scope"},
    404: {"description": "Unknown project"},
}


def parameter_schema(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if param.read == "integer" else "string"}
    if param.read == "choice":
        schema["enum"] = list(param.allowed)
    if param.read in ("metrics", "breakdown_metrics"):
        schema["description"] = "any of " + ", ".join(param.allowed)
    if param.bounds is not None:
        schema["minimum"], schema["maximum"] = param.bounds
    if param.default is not None:
        schema["default"] = param.default
    if param.read == "steps":
        return {"type": "array", "items": schema}
    return schema


def openapi_parameters(entry: Report) -> list[dict[str, Any]]:
    return [*({"name": p.name, "in": "query", "required": p.required,
               "description": p.description, "schema": parameter_schema(p),
               **({"explode": True} if p.read == "steps" else {})}
              for p in entry.documented_params()), FORMAT_PARAMETER]


def responses(entries: list[Report], description: str = "") -> dict[int | str, dict[str, Any]]:
    """The response model of the route's report (of any of them: utm/{param}, POST /query)."""
    model: Any = Union[tuple(entry.response for entry in entries)]  # noqa: UP007
    return {200: {"model": model, "description": description or entries[0].summary,
                  "content": CSV_CONTENT}, **PROBLEMS}


def add_stats_route(entries: list[Report]) -> None:
    """GET /stats/<path>; a path parameter ({param}, {prop_key}) completes the report name."""
    entry = entries[0]
    prefix, _, variable = entry.path.partition("{")

    path_names = ["project_id", *([variable.rstrip("}")] if variable else [])]

    async def endpoint(request: Request, key: ReadKey, **path: str) -> Response:
        name = prefix + path[path_names[-1]] if variable else entry.name
        return await service.serve_report(request, key.project_id, name,
                                          query_items(request))

    signature = inspect.signature(endpoint)
    endpoint.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
        *(inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=str) for n in path_names),
        *(p.replace(kind=p.KEYWORD_ONLY) for p in signature.parameters.values()
          if p.kind != p.VAR_KEYWORD),
    ])
    endpoint.__name__ = "stats_" + prefix.strip("/").replace("-", "_").replace("/", "_")
    router.add_api_route(f"/stats/{entry.path}", endpoint, methods=["GET"],
                         responses=responses(entries), summary=f"Stats: {entry.path}",
                         description=entry.summary,
                         openapi_extra={"parameters": openapi_parameters(entry)})


for _path in dict.fromkeys(entry.path for entry in ENTRIES):
    add_stats_route([entry for entry in ENTRIES if entry.path == _path])


@router.post("/query", responses=responses(list(ENTRIES), "The report's response"),
             summary="Run any stats query given as a JSON object",
             description="`report` is one of: " + ", ".join(NAMES) + "; the other members are "
                         "the report's parameters (`step` and `metrics` may be lists). The "
                         "response is the report's, as its GET route documents it.")
async def query(project_id: str, request: Request, key: ReadKey,
                body: QueryBody) -> Response:
    report, items = service.query_object_items(body)
    return await service.serve_report(request, key.project_id, report, items)

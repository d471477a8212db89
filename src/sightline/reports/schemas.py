from typing import Any

from pydantic import BaseModel, ConfigDict

from sightline.stats.bodies import QUERY_EXAMPLES, QueryBody


class ReportCreate(BaseModel):
    """A stats query to compute in the background (poll GET .../reports/{id})."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": QUERY_EXAMPLES[0]}]})
    query: QueryBody


class ReportOut(BaseModel):
    id: int
    status: str
    query: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None

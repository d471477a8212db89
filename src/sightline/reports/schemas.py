from typing import Any

from pydantic import BaseModel


class ReportCreate(BaseModel):
    query: dict[str, Any]


class ReportOut(BaseModel):
    id: int
    status: str
    query: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from typing import Annotated


def check_timezone(value: str) -> str:
    if value not in available_timezones() and value != "UTC":
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin, UTC)")
    ZoneInfo(value)
    return value


TimeZone = Annotated[str, AfterValidator(check_timezone),
                     Field(description="IANA time zone", examples=["Europe/Berlin"])]
ProjectName = Annotated[str, Field(min_length=1, max_length=200, examples=["Shop"])]


def check_origin(value: str) -> str:
    """An origin as browsers send it: `scheme://host[:port]`, lower case, no default port."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{value!r} is not an origin like https://example.com")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port not in (None, default_port) else ""
    return f"{parts.scheme}://{host}{port}"


Origin = Annotated[str, AfterValidator(check_origin),
                   Field(description="An origin allowed to send tracker beacons",
                         examples=["https://shop.example"])]


class ProjectKeys(BaseModel):
    admin: str
    read: str
    ingest: str


class ProjectCreated(BaseModel):
    id: str
    name: str
    timezone: str
    site_id: str = Field(description="Public id for the tracker snippet (data-site)")
    keys: ProjectKeys = Field(description="Shown once; only their SHA-256 is stored")


class ProjectOut(BaseModel):
    id: str
    name: str
    timezone: str
    site_id: str
    allowed_origins: list[str] = []


class ProjectListed(ProjectOut):
    created_at: datetime


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"name": "Shop",
                                                               "timezone": "Europe/Berlin"}]})
    name: ProjectName
    timezone: TimeZone = "UTC"
    allowed_origins: list[Origin] = Field(default=[], max_length=100,
                                          description="Tracker origins; empty: any origin")


class ProjectUpdate(BaseModel):
    """Fields left out stay as they are. A new time zone rebuilds the project's daily rollups."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"timezone": "America/New_York"}]})
    name: ProjectName | None = None
    timezone: TimeZone | None = None


class GoalCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Signed up",
                                                               "event": "Signup"}]})
    name: str = Field(min_length=1, max_length=200)
    event: str | None = Field(default=None, min_length=1, max_length=120)
    page: str | None = Field(default=None, min_length=1, max_length=2048)

    @model_validator(mode="after")
    def one_target(self) -> "GoalCreate":
        if (self.event is None) == (self.page is None):
            raise ValueError("a goal needs exactly one of event or page")
        return self


class GoalOut(BaseModel):
    id: str
    name: str
    event: str | None
    page: str | None

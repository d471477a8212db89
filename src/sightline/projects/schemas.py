from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, Field, field_validator, model_validator


def check_timezone(value: str) -> str:
    if value not in available_timezones() and value != "UTC":
        raise ValueError(f"unknown IANA time zone {value!r}")
    ZoneInfo(value)
    return value


class ProjectKeys(BaseModel):
    admin: str
    read: str
    ingest: str


class ProjectCreated(BaseModel):
    id: str
    name: str
    timezone: str
    keys: ProjectKeys


class ProjectOut(BaseModel):
    id: str
    name: str
    timezone: str


class GoalCreate(BaseModel):
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


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"

    _check_timezone = field_validator("timezone")(classmethod(lambda cls, v: check_timezone(v)))

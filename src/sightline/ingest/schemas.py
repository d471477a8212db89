"""The event contract of POST /api/v1/events (SPEC section 3)."""

import math
import re
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator,
    model_validator,
)

COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
MAX_PROPERTIES = 30
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

PropertyValue = StrictBool | StrictStr | int | float
ShortText = Annotated[StrictStr, Field(max_length=256)]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    name: StrictStr = Field(min_length=1, max_length=120)
    timestamp: AwareDatetime | None = None
    visitor_id: StrictStr = Field(min_length=1, max_length=128)
    session_id: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    path: StrictStr | None = Field(default=None, max_length=2048)
    referrer: StrictStr | None = Field(default=None, max_length=2048)
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_content: ShortText | None = None
    utm_term: ShortText | None = None
    country: StrictStr | None = None
    device: Literal["desktop", "mobile", "tablet"] | None = None
    browser: StrictStr | None = Field(default=None, max_length=64)
    os: StrictStr | None = Field(default=None, max_length=64)
    user_agent: StrictStr | None = Field(default=None, max_length=1024)
    revenue: Decimal | None = Field(default=None, ge=0, max_digits=20, decimal_places=6)
    properties: dict[str, PropertyValue] | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def rfc3339_text(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError("timestamp must be an RFC 3339 string with an offset")
        return value

    @field_validator("revenue", mode="before")
    @classmethod
    def finite_number(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("revenue must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("revenue must be finite")
        return value

    @field_validator("path")
    @classmethod
    def reduce_to_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme and parts.netloc:
            return parts.path or "/"
        return value.split("?", 1)[0].split("#", 1)[0]

    @field_validator("referrer")
    @classmethod
    def referrer_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc:
            raise ValueError("referrer must be an absolute URL")
        return value.split("#", 1)[0].split("?", 1)[0]

    @field_validator("country")
    @classmethod
    def alpha2(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not COUNTRY_CODE.match(value):
            raise ValueError("country must be an ISO 3166-1 alpha-2 code")
        return value.upper()

    @field_validator("properties")
    @classmethod
    def few_properties(cls, value: dict[str, PropertyValue] | None) -> dict[str, PropertyValue] | None:
        if value is None:
            return None
        if len(value) > MAX_PROPERTIES:
            raise ValueError(f"at most {MAX_PROPERTIES} properties")
        for item in value.values():
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError("property values must be finite numbers")
        return value

    @model_validator(mode="after")
    def pageview_has_path(self) -> "EventIn":
        if self.name == "pageview" and not self.path:
            raise ValueError("path is required for pageview events")
        return self


class IngestAccepted(BaseModel):
    accepted: int
    duplicates: int

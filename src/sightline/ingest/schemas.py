"""The event contract of POST /api/v1/events (SPEC section 3)."""

import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator,
    model_validator,
)

from sightline.stats.query import MAX_PROPERTY_KEY

COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")
MAX_PROPERTIES = 30
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MAX_PROPERTY_TEXT = 256
# Rollup rows keep values in a b-tree key (at most ~2,700 bytes): the longest stored values are
# limited in UTF-8 bytes too, so multibyte text cannot overflow it (a referrer is kept after
# its source, up to 256 characters).
MAX_PATH_BYTES = 2048
MAX_REFERRER_BYTES = 1200
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def utf8_at_most(value: str, limit: int, name: str) -> str:
    if len(value.encode()) > limit:
        raise ValueError(f"{name} must be at most {limit} bytes in UTF-8")
    return value

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

    @field_validator("timestamp")
    @classmethod
    def not_before_2000(cls, value: datetime | None) -> datetime | None:
        if value is not None and value < EARLIEST:
            raise ValueError("timestamp must not be before 2000-01-01")
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
            return utf8_at_most(parts.path or "/", MAX_PATH_BYTES, "path")
        return utf8_at_most(value.split("?", 1)[0].split("#", 1)[0], MAX_PATH_BYTES, "path")

    @field_validator("referrer")
    @classmethod
    def referrer_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc:
            raise ValueError("referrer must be an absolute URL")
        return utf8_at_most(value.split("#", 1)[0].split("?", 1)[0], MAX_REFERRER_BYTES,
                            "referrer")

    @field_validator("country")
    @classmethod
    def alpha2(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not COUNTRY_CODE.fullmatch(value):
            raise ValueError("country must be an ISO 3166-1 alpha-2 code")
        return value.upper()

    @field_validator("properties")
    @classmethod
    def few_properties(cls, value: dict[str, PropertyValue] | None) -> dict[str, PropertyValue] | None:
        if value is None:
            return None
        if len(value) > MAX_PROPERTIES:
            raise ValueError(f"at most {MAX_PROPERTIES} properties")
        for key, item in value.items():
            if not 1 <= len(key) <= MAX_PROPERTY_KEY:
                raise ValueError(f"property keys have 1 to {MAX_PROPERTY_KEY} characters")
            if isinstance(item, str) and len(item) > MAX_PROPERTY_TEXT:
                raise ValueError(f"property values have at most {MAX_PROPERTY_TEXT} characters")
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

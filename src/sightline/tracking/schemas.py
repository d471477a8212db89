"""The beacon of POST /api/v1/collect (SPEC section 8)."""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from sightline.ingest.schemas import PropertyValue


class BeaconIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    site_id: StrictStr = Field(min_length=1, max_length=32)
    name: StrictStr = Field(min_length=1, max_length=120)
    url: StrictStr = Field(min_length=1, max_length=4096,
                           description="The page's full URL: path and utm_* come from it")
    referrer: StrictStr | None = Field(default=None, max_length=2048)
    props: dict[str, PropertyValue] | None = None
    revenue: Decimal | Any = None  # checked by the event contract (EventIn)


class CollectAccepted(BaseModel):
    accepted: int

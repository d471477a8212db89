from datetime import datetime

from pydantic import BaseModel, Field

from sightline.auth.keys import Scope


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, examples=["CI exporter"])
    scope: Scope = Field(examples=["read"])


class KeyOut(BaseModel):
    id: str
    name: str
    scope: Scope
    prefix: str = Field(description="The first characters of the key, to recognise it")
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When the key was last used, to the minute (null: never)")


class KeyCreated(KeyOut):
    key: str = Field(description="The secret key; shown only this once")

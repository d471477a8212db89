from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base
from sightline.models.traffic import TrafficAttributes


class Event(TrafficAttributes, Base):
    """One ingested event, as sent (after normalization), with its assigned session key."""

    __tablename__ = "event"
    __table_args__ = (
        Index("uq_event_project_id_event_id", "project_id", "event_id", unique=True,
              postgresql_where="event_id IS NOT NULL"),
        Index("ix_event_project_id_ts", "project_id", "ts"),
        Index("ix_event_project_id_visitor_id_ts", "project_id", "visitor_id", "ts"),
    )

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    visitor_id: Mapped[str] = mapped_column(String(128))
    visitor_key: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[str | None] = mapped_column(String(128))
    session_key: Mapped[str | None] = mapped_column(String(160))
    path: Mapped[str | None] = mapped_column(Text)
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

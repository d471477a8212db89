from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base
from sightline.models.traffic import TrafficAttributes


class Session(TrafficAttributes, Base):
    """One row per session, rebuilt from its events whenever they change (late events included)."""

    __tablename__ = "session"
    __table_args__ = (Index("ix_session_project_id_started_at", "project_id", "started_at"),)

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    session_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    visitor_key: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[Decimal] = mapped_column(Numeric(16, 6))
    pageviews: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    entry_page: Mapped[str | None] = mapped_column(Text)
    exit_page: Mapped[str | None] = mapped_column(Text)

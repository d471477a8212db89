from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base


class Session(Base):
    """One row per session, rebuilt from its events whenever they change (late events included)."""

    __tablename__ = "session"
    __table_args__ = (Index("ix_session_project_id_started_at", "project_id", "started_at"),)

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    session_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    visitor_key: Mapped[int] = mapped_column(BigInteger)
    visitor_num: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[Decimal] = mapped_column(Numeric(16, 6))
    pageviews: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    entry_page: Mapped[str | None] = mapped_column(Text)
    exit_page: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    utm_source: Mapped[str | None] = mapped_column(String(256))
    utm_medium: Mapped[str | None] = mapped_column(String(256))
    utm_campaign: Mapped[str | None] = mapped_column(String(256))
    utm_content: Mapped[str | None] = mapped_column(String(256))
    utm_term: Mapped[str | None] = mapped_column(String(256))
    country: Mapped[str | None] = mapped_column(String(2))
    device: Mapped[str | None] = mapped_column(String(16))
    browser: Mapped[str | None] = mapped_column(String(64))
    os: Mapped[str | None] = mapped_column(String(64))

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger, Date, DateTime, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base

class Visitor(Base):
    """A small integer per visitor, dense per project (1, 2, 3, … in order of first sight), so
    that sets of visitors are compact 32-bit roaring bitmaps."""

    __tablename__ = "visitor"
    __table_args__ = (UniqueConstraint("project_id", "num"),)

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    visitor_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    num: Mapped[int] = mapped_column(Integer)


class RollupDay(Base):
    """Aggregates of one local day (project time zone) per dimension value; '' / '' is the total.

    Counts add up across days; visitor sets are roaring bitmaps of Visitor.num, so distinct
    visitors over any range of days are exact unions.
    """

    __tablename__ = "rollup_day"

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(140), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    pageviews: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(24, 6))
    orders: Mapped[int] = mapped_column(Integer, default=0)
    event_visitors: Mapped[bytes | None] = mapped_column(LargeBinary)
    paying_visitors: Mapped[bytes | None] = mapped_column(LargeBinary)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    duration: Mapped[Decimal | None] = mapped_column(Numeric(24, 6))
    session_pageviews: Mapped[int] = mapped_column(Integer, default=0)
    session_visitors: Mapped[bytes | None] = mapped_column(LargeBinary)
    exit_pageviews: Mapped[int] = mapped_column(Integer, default=0)


class RollupState(Base):
    """Ingest bumps `version` of every day it touches; a day's rollup is usable only when it was
    built from that version (built_version == version)."""

    __tablename__ = "rollup_state"

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    built_version: Mapped[int] = mapped_column(BigInteger, default=0)
    built_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKeyConstraint, Integer, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sightline.db import Base


class Dashboard(Base):
    __tablename__ = "dashboard"
    __table_args__ = (
        ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
    )

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    widgets: Mapped[list["Widget"]] = relationship(
        lazy="raise", order_by="Widget.position", cascade="all, delete-orphan",
        back_populates="dashboard",
    )


class Widget(Base):
    __tablename__ = "widget"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_id", "dashboard_id"], ["dashboard.project_id", "dashboard.id"],
            ondelete="CASCADE",
        ),
    )

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dashboard_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    visualization: Mapped[str] = mapped_column(String(16), default="table")
    query: Mapped[dict[str, Any]] = mapped_column(JSONB)
    position: Mapped[int] = mapped_column(Integer, default=0)
    dashboard: Mapped[Dashboard] = relationship(lazy="raise", back_populates="widgets")


class ShareToken(Base):
    """A read-only link to one dashboard; only the hash of the token is stored."""

    __tablename__ = "share_token"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_id", "dashboard_id"], ["dashboard.project_id", "dashboard.id"],
            ondelete="CASCADE",
        ),
    )

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dashboard_id: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

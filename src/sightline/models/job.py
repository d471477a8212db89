from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base


class Job(Base):
    """A durable background job, leased by one worker at a time (see worker/queue.py)."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_status_run_at", "status", "run_at",
              postgresql_where="status = 'queued'"),
        Index("ix_job_lease_expires_at", "lease_expires_at",
              postgresql_where="status = 'running'"),
        Index("ix_job_project_id_task_active", "project_id", "task",
              postgresql_where="status IN ('queued', 'running')"),
        Index("ix_job_finished_at", "finished_at",
              postgresql_where="status IN ('done', 'failed')"),
    )

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobTurn(Base):
    """When a project last had a job claimed: the least recently served project goes first."""

    __tablename__ = "job_turn"

    project_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base


class WebhookDelivery(Base):
    """Webhook ids already processed, so that a replay has no second effect."""

    __tablename__ = "webhook_delivery"

    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

from sqlalchemy import Delete, Insert, delete, func
from sqlalchemy.dialects.postgresql import insert

from sightline.models.webhook import WebhookDelivery

REPLAY_WINDOW_MINUTES = 15  # longer than the 5-minute timestamp tolerance


def insert_delivery(webhook_id: str) -> Insert:
    """Returns the id only when it was not seen before."""
    return (insert(WebhookDelivery).values(webhook_id=webhook_id)
            .on_conflict_do_nothing(index_elements=[WebhookDelivery.webhook_id])
            .returning(WebhookDelivery.webhook_id))


def delete_old_deliveries() -> Delete:
    """A replay older than the window fails the timestamp check anyway."""
    cutoff = func.now() - func.make_interval(0, 0, 0, 0, 0, REPLAY_WINDOW_MINUTES)
    return delete(WebhookDelivery).where(WebhookDelivery.received_at < cutoff)

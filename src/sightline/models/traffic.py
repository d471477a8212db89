from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class TrafficAttributes:
    """Where a visit came from and on what: stored per event, and per session (its first
    event's)."""

    visitor_num: Mapped[int | None] = mapped_column(Integer)
    referrer: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    utm_source: Mapped[str | None] = mapped_column(String(256))
    utm_medium: Mapped[str | None] = mapped_column(String(256))
    utm_campaign: Mapped[str | None] = mapped_column(String(256))
    utm_content: Mapped[str | None] = mapped_column(String(256))
    utm_term: Mapped[str | None] = mapped_column(String(256))
    country: Mapped[str | None] = mapped_column(String(2))
    device: Mapped[str | None] = mapped_column(String(16))
    browser: Mapped[str | None] = mapped_column(String(64))
    os: Mapped[str | None] = mapped_column(String(64))

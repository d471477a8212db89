from datetime import date

from sqlalchemy import Date, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from sightline.db import Base


class Salt(Base):
    """The secret of one UTC day, mixed into browser visitor ids; deleted after two days, so
    yesterday's visitor ids can no longer be linked to an address and user agent."""

    __tablename__ = "salt"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)

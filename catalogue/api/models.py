"""The API's request counters: one row per client address and minute, shared by every worker process."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.extensions import db


class ApiRequestCount(db.Model):
    """How many API requests ``address`` made in the minute ``window`` (seconds since the epoch // 60)."""

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

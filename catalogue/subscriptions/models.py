"""A person's subscription to a search or a filtered list, and what its digests have sent so far."""

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.clock import utcnow
from catalogue.extensions import db


class Frequency:
    DAILY = "daily"
    WEEKLY = "weekly"
    LABELS = {DAILY: "раз в день", WEEKLY: "раз в неделю"}


class Subscription(db.Model):
    """``kind`` names the list (``catalogue.subscriptions.sources``), ``query`` its normalised query string.

    ``watermark`` is when the newest item already sent (or, before the first letter, the subscription itself)
    was published: a digest lists what was published after it. ``last_period`` is the key of the last period
    a digest was made for («2026-11-28», «2026-W48»), written in the same transaction as the watermark, so a
    second run of the job in the same period sends nothing.
    """

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "query", name="uq_subscription_user_list"),
        Index("ix_subscription_user_created", "user_id", "created_at", "id"),  # «Мои подписки», newest first
        Index("ix_subscription_due", "frequency", "last_period", "id"),  # the digest job's batches
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    query: Mapped[str] = mapped_column(String(1000), default="")
    title: Mapped[str] = mapped_column(String(300))
    frequency: Mapped[str] = mapped_column(String(10), default=Frequency.WEEKLY)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    watermark: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_period: Mapped[str | None] = mapped_column(String(10))
    last_sent_at: Mapped[dt.datetime | None]
    unsubscribed_at: Mapped[dt.datetime | None]

    @property
    def active(self) -> bool:
        return self.unsubscribed_at is None

    @property
    def frequency_label(self) -> str:
        return Frequency.LABELS.get(self.frequency, self.frequency)

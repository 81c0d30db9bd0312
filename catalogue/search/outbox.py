"""The search outbox: content changes are recorded in the same transaction, the indexer applies them later.

A row says only "look at item (type, id) again"; the indexer then loads the item and upserts it if it
is published or deletes it from the index otherwise. So nothing is lost when the index is locked,
missing or the process dies between the commit and the index write.
"""

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.accounts.models import utcnow
from catalogue.extensions import db


class SearchOutbox(db.Model):
    __table_args__ = (Index("ix_search_outbox_item", "content_type", "content_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    content_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def enqueue(content_type: str, content_id: int) -> None:
    """Record that an item changed; part of the caller's transaction."""
    db.session.add(SearchOutbox(content_type=content_type, content_id=content_id))


def enqueue_many(content_type: str, content_ids: Iterable[int]) -> None:
    """Record that many items of one type changed; part of the caller's transaction (the rows are inserted
    in batches by the flush, not one statement per item)."""
    db.session.add_all(SearchOutbox(content_type=content_type, content_id=content_id) for content_id in content_ids)

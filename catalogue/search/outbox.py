"""The search outbox: content changes are recorded in the same transaction, the indexer applies them later.

A row says only "look at item (type, id) again"; the indexer then loads the item and upserts it if it
is published or deletes it from the index otherwise. So nothing is lost when the index is locked,
missing or the process dies between the commit and the index write.

Rows are written by the unit of work, not by hand: after every flush, :func:`_record_changes` looks at
the session's new, changed and deleted objects and writes a row for each item of a searchable type among
them, and for each item that depends on a changed record (the type's ``depends_on``: an organization's
name, a person's name, a season's blind flag...). Only changes that bypass the session's objects (a bulk
``update()``, as the workflow's transitions do) call :func:`enqueue` themselves.
"""

import datetime as dt
from itertools import chain

from sqlalchemy import Index, Select, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalogue import unit_of_work
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.search import registry


class SearchOutbox(db.Model):
    __table_args__ = (Index("ix_search_outbox_item", "content_type", "content_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    content_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def enqueue(content_type: str, content_id: int) -> None:
    """Record that an item changed; part of the caller's transaction."""
    db.session.add(SearchOutbox(content_type=content_type, content_id=content_id))
    _sync_after_commit(db.session)


def _sync_after_commit(session: Session) -> None:
    unit_of_work.after_commit(_apply_in_process, key="catalogue.search.sync", session=session)


def _apply_in_process() -> None:
    from catalogue.search import indexer

    indexer.sync_after_commit()


def _changed(obj, fields: tuple[str, ...]) -> bool:
    if not fields:
        return True
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_context) -> None:
    """Outbox rows for the items this flush changed, directly or through a record they depend on."""
    types = registry.all_types()
    if not types:
        return
    wanted: set[tuple[str, int]] = set()
    new, deleted = session.new, session.deleted
    for obj in chain(new, session.dirty, deleted):
        if isinstance(obj, SearchOutbox):
            continue
        changed = obj in new or obj in deleted
        if not changed and not session.is_modified(obj):
            continue
        for searchable in types:
            if isinstance(obj, searchable.model) and obj.id is not None:
                wanted.add((searchable.key, obj.id))
            for dependency in searchable.depends_on:
                if isinstance(obj, dependency.model) and (changed or _changed(obj, dependency.fields)):
                    ids = dependency.ids(obj)
                    if isinstance(ids, Select):
                        ids = session.connection().execute(ids).scalars()
                    wanted.update((searchable.key, item_id) for item_id in ids if item_id is not None)
    if wanted:
        session.connection().execute(
            insert(SearchOutbox.__table__),
            [{"content_type": key, "content_id": item_id, "created_at": utcnow()} for key, item_id in sorted(wanted)],
        )
        _sync_after_commit(session)

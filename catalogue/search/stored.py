"""Each indexed item's document as it was indexed (title, plain text, date), kept in the database beside the index.

The search page shows titles and snippets from these rows instead of building every hit's document again (Markdown
rendered to plain text, names looked up) on every request: the plain text is computed once, when the item is
indexed. The indexer writes them in the same transaction that removes the applied outbox rows, and a rebuild writes
all of them, so they are exactly as fresh as the index; ``search check`` compares them with the database too.
"""

import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import String, Text, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.extensions import db
from catalogue.search.backend import IndexEntry

CHUNK = 500


class SearchDocumentRow(db.Model):
    __tablename__ = "search_document"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<type>:<id>", as in the index
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.datetime | None]
    digest: Mapped[str] = mapped_column(String(32))  # the index entry's digest, for ``search check``


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(upserts: Iterable[IndexEntry], deletes: Iterable[str] = ()) -> None:
    """Replace the stored documents of ``upserts`` and remove those of ``deletes`` (the caller commits)."""
    rows = [
        {"key": e.key, "title": e.title, "text": e.text, "date": e.date, "digest": e.digest} for e in upserts
    ]
    gone = [row["key"] for row in rows] + list(deletes)
    for chunk in _chunks(gone):
        db.session.execute(delete(SearchDocumentRow).where(SearchDocumentRow.key.in_(chunk)))
    for chunk in _chunks(rows):
        db.session.execute(insert(SearchDocumentRow), chunk)


def keep_only(keys: Collection[str]) -> None:
    """Remove the stored documents of every key not in ``keys`` (after a rebuild; the caller commits)."""
    stale = [key for key in db.session.scalars(select(SearchDocumentRow.key)) if key not in keys]
    for chunk in _chunks(stale):
        db.session.execute(delete(SearchDocumentRow).where(SearchDocumentRow.key.in_(chunk)))


def load(keys: Collection[str]) -> dict[str, SearchDocumentRow]:
    """The stored documents of ``keys``: one query."""
    if not keys:
        return {}
    rows = db.session.execute(
        select(SearchDocumentRow.key, SearchDocumentRow.title, SearchDocumentRow.text, SearchDocumentRow.date)
        .where(SearchDocumentRow.key.in_(list(keys)))
    ).all()  # fmt: skip
    return {row.key: row for row in rows}


def digests() -> dict[str, str]:
    return dict(db.session.execute(select(SearchDocumentRow.key, SearchDocumentRow.digest)).all())

"""Each indexed item's document as it was indexed (title, plain text, date), kept in the database beside the index.

The search page shows titles and snippets from these rows instead of building every hit's document again (Markdown
rendered to plain text, names looked up) on every request: the plain text is computed once, when the item is
indexed. The indexer writes them in the same transaction that removes the applied outbox rows, and a rebuild writes
all of them, so they are exactly as fresh as the index; ``search check`` compares them with the database too.

They are also what search answers from when no index generation can be read (:mod:`catalogue.search.fallback`):
each row keeps its facet values (``|sphere=it|age=8-9|``, one ``LIKE`` per chosen filter) and is full-text indexed
by the database — on SQLite an FTS5 table over the rows kept by triggers, on PostgreSQL a GIN index on
``to_tsvector('simple', title || ' ' || text)``. Both are created with the table (and by the migration).
"""

import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import DDL, String, Text, delete, event, insert, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.extensions import db
from catalogue.search.backend import IndexEntry

CHUNK = 500
WORDS = "to_tsvector('simple', title || ' ' || text)"  # PostgreSQL: what the GIN index and the fallback agree on


class SearchDocumentRow(db.Model):
    __tablename__ = "search_document"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<type>:<id>", as in the index
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.datetime | None]
    digest: Mapped[str] = mapped_column(String(32))  # the index entry's digest, for ``search check``
    facets: Mapped[str] = mapped_column(Text, default="", server_default="")  # "|key=value|key=value|"


# SQLite: an external-content FTS5 table over the rows, kept by triggers. It is rebuilt whole only after a restore
# (``catalogue.backup``): the copy was made by VACUUM INTO, which may renumber the rows it refers to. A rebuild of
# the index leaves it to the triggers, so that it never holds the write lock for a pass over every row.
SQLITE_FULL_TEXT = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_document_fts USING fts5(title, text, content='search_document', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS search_document_fts_insert AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_document_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS search_document_fts_delete AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_document_fts(search_document_fts, rowid, title, text) "
    "VALUES ('delete', old.rowid, old.title, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS search_document_fts_update AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_document_fts(search_document_fts, rowid, title, text) "
    "VALUES ('delete', old.rowid, old.title, old.text); "
    "INSERT INTO search_document_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text); END",
)
for _statement in SQLITE_FULL_TEXT:
    event.listen(SearchDocumentRow.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(
    SearchDocumentRow.__table__,
    "after_create",
    DDL(f"CREATE INDEX IF NOT EXISTS ix_search_document_words ON search_document USING gin (({WORDS}))").execute_if(
        dialect="postgresql"
    ),
)
event.listen(
    SearchDocumentRow.__table__,
    "before_drop",
    DDL("DROP TABLE IF EXISTS search_document_fts").execute_if(dialect="sqlite"),
)


def facet_column(facets) -> str:
    """The ``facets`` column of an entry's facet values."""
    pairs = [f"{key}={value}" for key in sorted(facets) for value in facets[key]]
    return f"|{'|'.join(pairs)}|" if pairs else ""


def chunks(items: list, size: int = CHUNK):
    """``items`` in slices of ``size``: for statements whose parameters must stay bounded."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(upserts: Iterable[IndexEntry], deletes: Iterable[str] = ()) -> None:
    """Replace the stored documents of ``upserts`` and remove those of ``deletes`` (the caller commits)."""
    rows = [
        {
            "key": e.key,
            "title": e.title,
            "text": e.text,
            "date": e.date,
            "digest": e.digest,
            "facets": facet_column(e.facets),
        }
        for e in upserts
    ]
    gone = [row["key"] for row in rows] + list(deletes)
    for chunk in chunks(gone):
        db.session.execute(delete(SearchDocumentRow).where(SearchDocumentRow.key.in_(chunk)))
    for chunk in chunks(rows):
        db.session.execute(insert(SearchDocumentRow), chunk)


def keep_only(keys: Collection[str]) -> None:
    """Remove the stored documents of every key not in ``keys`` (after a rebuild; the caller commits)."""
    stale = [key for key in db.session.scalars(select(SearchDocumentRow.key)) if key not in keys]
    for chunk in chunks(stale):
        db.session.execute(delete(SearchDocumentRow).where(SearchDocumentRow.key.in_(chunk)))


def refresh_full_text() -> None:
    """SQLite: rebuild the FTS5 table from the rows (after a restore; the caller commits)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sql("INSERT INTO search_document_fts(search_document_fts) VALUES ('rebuild')"))


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

"""A rate limit per client address for the API: a counter per address and minute, kept in the database.

The counter is one upserted row (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on SQLite and PostgreSQL), so
that every worker process counts the same requests; an address's rows of earlier minutes go when its first request
of a new minute comes. The table is private to the page cache: counting does not empty it.
"""

import time

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from catalogue.api.models import ApiRequestCount
from catalogue.extensions import db

DEFAULT_LIMIT = 600  # requests per minute and address (``API_RATE_LIMIT``)
WINDOW_SECONDS = 60


def limit() -> int:
    return int(current_app.config.get("API_RATE_LIMIT", DEFAULT_LIMIT))


def count_request(address: str, now: float | None = None) -> int | None:
    """Count one request of ``address``; the seconds it must wait if it is over the limit, else None."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    table = ApiRequestCount.__table__
    stmt = (
        insert(table)
        .values(address=address[:64], window=window, count=1)
        .on_conflict_do_update(index_elements=["address", "window"], set_={"count": table.c.count + 1})
        .returning(table.c.count)
    )
    count = db.session.execute(stmt).scalar_one()
    if count == 1:
        db.session.execute(
            delete(ApiRequestCount).where(ApiRequestCount.address == address[:64], ApiRequestCount.window < window)
        )
    db.session.commit()
    if count > limit():
        return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    return None

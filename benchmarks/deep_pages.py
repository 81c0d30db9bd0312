"""A deep page of the catalogue against its first page, as a ratio (not a test; the machine's noise is evened out
by interleaving the requests): ``python -m benchmarks.deep_pages [--projects 20000] [--database-url URL]``.

A temporary SQLite database (or, with ``--database-url``, a PostgreSQL database, in a schema of its own that is
dropped at the end) gets ``--projects`` published projects (one bulk INSERT); then the first page, the tenth (the
last read with an OFFSET), ``?page=1427`` (its start sought in the index), the last page and the keyset page that
starts where page 1,427 starts are requested in turn through the test client; the rows' query alone is timed with an
OFFSET and with the key, and the seek of the key alone.
"""

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from catalogue import create_app
from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.pagination import _after, _Key, _key_at
from catalogue.projects.models import Project
from catalogue.projects.services import PER_PAGE
from catalogue.taxonomy.seed import seed_taxonomies

ORDER = (Project.published_at.desc(), Project.id.desc())


def median_ms(run, times: int = 30) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=1427, help="the deep page to measure")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (psycopg) instead of a temporary SQLite")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url, schema = f"sqlite:///{folder}/bench.db", None
    if args.database_url:
        schema = f"bench_deep_pages_{os.getpid()}"
        with create_engine(args.database_url).begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": url,
            "SITE_URL": "http://localhost",
            "PAGE_CACHE": False,  # the pages made each time: what is measured is the reading, not the caches
            "WARM_UP": False,
        }
    )
    try:
        measure(app, args)
    finally:
        if schema:
            with app.app_context():
                db.engine.dispose()
            with create_engine(args.database_url).begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


def measure(app, args) -> None:
    offset = (args.page - 1) * PER_PAGE
    with app.app_context():
        db.create_all()
        seed_taxonomies()
        author = db.session.scalars(
            insert(User).returning(User.id),
            [{"email": "a@example.ru", "password_hash": "-", "last_name": "А", "first_name": "Б"}],
        ).one()
        base = dt.datetime(2020, 1, 1)
        rows = [
            {
                "title": f"Проект {i:05d}",
                "summary": "-",
                "goal": "-",
                "format": "group",
                "duration_weeks": 4,
                "expected_results": "-",
                "status": "published",
                "published_at": base + dt.timedelta(minutes=i),
                "author_id": author,
            }
            for i in range(args.projects)
        ]
        db.session.execute(insert(Project), rows)
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        else:  # as autovacuum would: statistics and the visibility map that index-only scans need
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE project")
        published = select(Project.id).where(Project.status == "published")
        key = db.session.execute(
            published.with_only_columns(Project.published_at, Project.id).order_by(*ORDER).offset(offset).limit(1)
        ).one()
        keys = [_Key(clause) for clause in ORDER]
        by_offset = published.order_by(*ORDER).limit(PER_PAGE + 1).offset(offset)
        by_key = published.where(_after(keys, list(key), False)).order_by(*ORDER).limit(PER_PAGE + 1)
        old = median_ms(lambda: db.session.execute(by_offset).all())
        new = median_ms(lambda: db.session.execute(by_key).all())
        seek = median_ms(lambda: _key_at(published, keys, offset - 1, args.projects))
        print(
            f"{db.engine.dialect.name}, {args.projects:,} projects: the rows of page {args.page:,}: "
            f"OFFSET {offset:,} {old:.2f} ms, by key {new:.2f} ms; the seek of its key {seek:.2f} ms"
        )
        before = db.session.execute(
            published.with_only_columns(Project.published_at, Project.id).order_by(*ORDER).offset(offset - 1).limit(1)
        ).one()
    client = app.test_client()
    last = -(-args.projects // PER_PAGE)
    pages = {
        "first": "/projects/",
        "tenth": "/projects/?page=10",
        f"number {args.page:,}": f"/projects/?page={args.page}",
        f"last ({last:,})": f"/projects/?page={last}",
        f"keyset {args.page:,}": f"/projects/?after={before[0].isoformat()},{before[1]}",
    }
    spent: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(40):
        for name, url in pages.items():
            if fragments := app.extensions.get("fragments"):
                fragments.entries = {}  # the page's pieces made again, not taken from the fragment cache
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            spent[name].append(time.perf_counter() - start)
    first = statistics.median(spent["first"])
    for name, times in spent.items():
        print(
            f"{name} page: {statistics.median(times) * 1000:.1f} ms, {statistics.median(times) / first:.2f}× the first"
        )


if __name__ == "__main__":
    main()

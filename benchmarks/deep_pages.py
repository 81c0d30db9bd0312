"""A deep page of the catalogue against its first page, as a ratio (not a test; the machine's noise is evened out
by interleaving the requests): ``python -m benchmarks.deep_pages [--projects 20000]``.

A temporary SQLite database gets ``--projects`` published projects (one bulk INSERT); then the first page, the tenth
(the last numbered one, an OFFSET) and the keyset page where ``?page=1427`` used to start are requested in turn
through the test client, and the rows' query alone is timed with the old OFFSET and with the key.
"""

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, text

from catalogue import create_app
from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.pagination import _after, _Key
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
    parser.add_argument("--page", type=int, default=1427, help="the deep page whose start the key replaces")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SITE_URL": "http://localhost",
        }
    )
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
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        published = select(Project.id).where(Project.status == "published")
        key = db.session.execute(
            published.with_only_columns(Project.published_at, Project.id).order_by(*ORDER).offset(offset).limit(1)
        ).one()
        keys = [_Key(clause) for clause in ORDER]
        by_offset = published.order_by(*ORDER).limit(PER_PAGE + 1).offset(offset)
        by_key = published.where(_after(keys, list(key), False)).order_by(*ORDER).limit(PER_PAGE + 1)
        old = median_ms(lambda: db.session.execute(by_offset).all())
        new = median_ms(lambda: db.session.execute(by_key).all())
        print(f"the rows of page {args.page:,}: OFFSET {offset:,} {old:.2f} ms, by key {new:.2f} ms")
    client = app.test_client()
    pages = {
        "first": "/projects/",
        "tenth": "/projects/?page=10",
        f"keyset {args.page:,}": f"/projects/?after={key[0].isoformat()},{key[1]}",
    }
    spent: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(40):
        for name, url in pages.items():
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

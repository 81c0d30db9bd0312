"""What search's fallback costs (not a test): ``python -m benchmarks.search_fallback [--projects 20000]``.

A temporary SQLite database gets ``--projects`` published projects (bulk INSERTs, titles of two to four words from
a small vocabulary) and a rebuilt index. Then, for the same queries, interleaved, in CPU seconds of this process:
the index searched as before (the outbox's safety net, then the index), and through
:func:`catalogue.search.fallback.engine` (the normal path with its one check); and the answer from the database
alone (FTS5 over the stored documents, with a filter), as when no generation can be read.
"""

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from catalogue import create_app
from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.projects.models import Project
from catalogue.search import fallback, indexer
from catalogue.search.backend import EngineQuery
from catalogue.search.query import parse
from catalogue.taxonomy.seed import seed_taxonomies

WORDS = ["роботы", "энергетика", "теплица", "геология", "Ангара", "лес", "экскурсия", "лаборатория", "профессия",
         "инженер", "медицина", "химия", "строительство", "транспорт", "сельское", "хозяйство"]  # fmt: skip
QUERIES = ["робот", "энергетики", "теплицы лес", "инженерная профессия", "химия", "транспорт Ангары"]


def _fill(count: int) -> None:
    rng = random.Random(1)  # noqa: S311 (made-up titles)
    author = db.session.scalars(
        insert(User).returning(User.id),
        [{"email": "a@example.ru", "password_hash": "-", "last_name": "Автор", "first_name": "Анна"}],
    ).one()
    base = dt.datetime(2020, 1, 1)
    rows = [
        {
            "id": i,
            "title": " ".join(rng.sample(WORDS, rng.randint(2, 4))).capitalize(),
            "summary": " ".join(rng.sample(WORDS, 6)),
            "goal": "Цель.",
            "format": "group",
            "duration_weeks": 4,
            "expected_results": "Итог.",
            "status": "published",
            "published_at": base + dt.timedelta(minutes=i),
            "author_id": author,
        }
        for i in range(1, count + 1)
    ]
    for start in range(0, count, 2000):
        db.session.execute(insert(Project), rows[start : start + 2000])
    db.session.commit()


def _cpu(function, repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        function()
    return (time.process_time() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=20_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "INSTANCE_PATH": folder,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.db'}",
                "WARM_UP": False,
                "PAGE_CACHE": False,
            }
        )
        with app.app_context():
            db.create_all()
            seed_taxonomies()
            _fill(arguments.projects)
            start = time.perf_counter()
            count = indexer.rebuild()
            print(f"{count} items indexed in {time.perf_counter() - start:.1f} s")
            direct, wrapped, database = [], [], []
            for text in QUERIES:
                query = EngineQuery(parse(text), limit=20)
                whoosh = indexer.backend()
                for _ in range(3):  # interleaved rounds
                    direct.append(_cpu(lambda: (indexer.sync_pending(app), whoosh.search(query)), 20))  # noqa: B023
                    wrapped.append(_cpu(lambda: fallback.engine(app).search(query), 20))  # noqa: B023
                    database.append(_cpu(lambda: fallback.database_search(whoosh, query), 5))  # noqa: B023
                filtered = EngineQuery(parse(text), {"type": "project"}, limit=20)
                found = fallback.database_search(whoosh, filtered)
                print(f"{text!r}: index {whoosh.search(filtered).total}, database {found.total} (type filter)")
            print(f"index as before:          median {statistics.median(direct) * 1000:.2f} ms CPU")
            print(f"index through fallback:   median {statistics.median(wrapped) * 1000:.2f} ms CPU "
                  f"(ratio {statistics.median(wrapped) / statistics.median(direct):.2f})")  # fmt: skip
            print(f"database alone (FTS5):    median {statistics.median(database) * 1000:.2f} ms CPU")


if __name__ == "__main__":
    main()

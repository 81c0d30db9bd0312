"""The JSON API and the open data files on a large catalogue, as ratios (not a test; requests are interleaved and
timed in CPU seconds of the process, which the neighbours' load hardly moves):
``python -m benchmarks.api [--projects 20000]``.

A temporary SQLite database gets ``--projects`` published projects with three stages each (bulk INSERTs). Then,
through the test client: the API's first page of 20 and 100 projects, a page half way down reached by its cursor,
and the catalogue's HTML first page; the rate limit's counter alone; and the open data file of all the projects,
its time and the peak Python memory of sending it (``tracemalloc``), beside the same for a tenth of them.
"""

import argparse
import datetime as dt
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import delete, insert, select, text

from catalogue import create_app
from catalogue.accounts.models import User
from catalogue.api import ratelimit
from catalogue.api.opendata import data_name
from catalogue.extensions import db
from catalogue.projects.models import Project, ProjectStage
from catalogue.taxonomy.seed import seed_taxonomies


def _fill(count: int) -> None:
    author = db.session.scalars(
        insert(User).returning(User.id),
        [{"email": "a@example.ru", "password_hash": "-", "last_name": "Автор", "first_name": "Анна"}],
    ).one()
    base = dt.datetime(2020, 1, 1)
    for start in range(0, count, 2000):
        ids = range(start + 1, min(start + 2000, count) + 1)
        db.session.execute(
            insert(Project),
            [
                {
                    "id": i,
                    "title": f"Проект {i:05d}",
                    "summary": "Кратко о проекте.",
                    "goal": "Цель.",
                    "format": "group",
                    "duration_weeks": 4,
                    "expected_results": "Итог.",
                    "status": "published",
                    "published_at": base + dt.timedelta(minutes=i),
                    "author_id": author,
                }
                for i in ids
            ],
        )
        db.session.execute(
            insert(ProjectStage),
            [
                {"project_id": i, "position": n, "title": f"Этап {n}", "description": "-"}
                for i in ids
                for n in (1, 2, 3)
            ],
        )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _download(client, url: str) -> tuple[float, float, int]:
    """CPU seconds, peak MB of Python memory, and bytes of one streamed download."""
    tracemalloc.start()
    start = time.process_time()
    response = client.get(url)
    size = sum(len(chunk) for chunk in response.response)
    spent = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    response.close()
    return spent, peak, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SITE_URL": "http://localhost",
            "PAGE_CACHE": False,
            "WARM_UP": False,
            "API_RATE_LIMIT": 10**9,
        }
    )
    with app.app_context():
        db.create_all()
        seed_taxonomies()
        _fill(args.projects)
    client = app.test_client()
    half = client.get(f"/api/v1/projects?limit=100&after={_half_key(app, args.projects)}").get_json()
    pages = {
        "API, first 20": "/api/v1/projects",
        "API, first 100": "/api/v1/projects?limit=100",
        "API, 20 half way (cursor)": half["links"]["next"].replace("limit=100", "limit=20"),
        "HTML catalogue, first page": "/projects/",
    }
    spent: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, url in pages.items():
            start = time.process_time()
            assert client.get(url).status_code == 200, url
            spent[name].append(time.process_time() - start)
    first = statistics.median(spent["API, first 20"])
    print(
        f"{args.projects:,} published projects, three stages each (SQLite); CPU time, medians of {args.rounds} rounds"
    )
    for name, times in spent.items():
        median = statistics.median(times)
        print(f"  {name}: {median * 1000:.1f} ms, {median / first:.2f}× the API's first page")
    with app.test_request_context():
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(1000):
            ratelimit.count_request(f"203.0.113.{n % 200}")
        print(
            f"  the rate limit's counter alone, a request: {time.process_time() - cpu:.3f} ms of CPU, "
            f"{time.perf_counter() - start:.3f} ms in all (1,000 requests, each its own commit)"
        )
    full = _download(client, "/opendata/projects/" + _name(app))
    with app.app_context():
        db.session.execute(delete(ProjectStage).where(ProjectStage.project_id > args.projects // 10))
        db.session.execute(delete(Project).where(Project.id > args.projects // 10))
        db.session.commit()
    tenth = _download(client, "/opendata/projects/" + _name(app))
    for label, (seconds, peak, size) in ((f"{args.projects:,}", full), (f"{args.projects // 10:,}", tenth)):
        print(
            f"  open data file of {label} projects: {seconds:.2f} s of CPU "
            f"({int(label.replace(',', '')) / seconds:,.0f} rows/s), {size / 2**20:.1f} MB, "
            f"peak Python memory {peak:.1f} MB"
        )


def _name(app) -> str:
    with app.app_context():
        return data_name()


def _half_key(app, count: int) -> str:
    with app.app_context():
        row = db.session.execute(
            select(Project.published_at, Project.id)
            .order_by(Project.published_at.desc(), Project.id.desc())
            .offset(count // 2)
            .limit(1)
        ).one()
    return f"{row[0].isoformat()},{row[1]}"


if __name__ == "__main__":
    main()

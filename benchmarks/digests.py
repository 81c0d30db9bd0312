"""The digest job and the list feeds on a large catalogue (not a test): ``python -m benchmarks.digests
[--projects 20000] [--subscriptions 1000]``.

A temporary SQLite database gets ``--projects`` published projects (one bulk INSERT, a fifth of them for 8–9
classes) and ``--subscriptions`` daily subscriptions of as many people to the catalogue, half of them filtered by
age group, whose watermark leaves 30 new projects each. The first run of ``digests.send_due`` makes every letter
(suppressed, not written), the second finds nothing due; then a filtered feed is timed against its page.
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
from catalogue.projects.models import Project, project_age_group
from catalogue.subscriptions import digests
from catalogue.subscriptions.models import Subscription
from catalogue.taxonomy.models import AgeGroup
from catalogue.taxonomy.seed import seed_taxonomies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SITE_URL": "http://localhost",
            "MAIL_SUPPRESS": True,
            "PAGE_CACHE": False,
            "WARM_UP": False,
        }
    )
    base = dt.datetime(2020, 1, 1)
    with app.app_context():
        db.create_all()
        seed_taxonomies()
        group = db.session.scalar(select(AgeGroup.id).where(AgeGroup.slug == "8-9"))
        people = db.session.scalars(
            insert(User).returning(User.id),
            [
                {"email": f"p{i}@example.ru", "password_hash": "-", "last_name": "А", "first_name": "Б"}
                for i in range(args.subscriptions)
            ],
        ).all()
        rows = [
            {
                "title": f"Проект {i:05d}", "summary": "-", "goal": "-", "format": "group", "duration_weeks": 4,
                "expected_results": "-", "status": "published", "published_at": base + dt.timedelta(minutes=i),
                "author_id": people[0],
            }
            for i in range(args.projects)
        ]
        ids = db.session.scalars(insert(Project).returning(Project.id), rows).all()
        db.session.execute(insert(project_age_group), [{"project_id": i, "age_group_id": group} for i in ids[::5]])
        latest = base + dt.timedelta(minutes=args.projects - 1)
        db.session.execute(
            insert(Subscription),
            [
                {
                    "user_id": person, "kind": "projects", "query": "age=8-9" if n % 2 else "", "title": "Проекты",
                    "frequency": "daily", "watermark": latest - dt.timedelta(minutes=150 if n % 2 else 30),
                }
                for n, person in enumerate(people)
            ],
        )
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        today = dt.date(2026, 11, 28)
        start = time.perf_counter()
        letters = digests.send_due("daily", today)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = digests.send_due("daily", today)
        second = time.perf_counter() - start
    print(
        f"{args.subscriptions:,} subscriptions, {args.projects:,} projects: {letters:,} letters in {first:.1f} s "
        f"({first / args.subscriptions * 1000:.1f} ms a subscription); the second run {again} letters in "
        f"{second * 1000:.0f} ms"
    )
    client = app.test_client()
    pages = {"page": "/projects/?age=8-9", "feed (50 entries)": "/projects.atom?age=8-9"}
    spent: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(30):
        for name, url in pages.items():
            with app.app_context():
                app.extensions.pop("fragments", None)  # like with like: nothing kept between requests
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            spent[name].append(time.perf_counter() - start)
    page = statistics.median(spent["page"])
    for name, times in spent.items():
        print(f"{name}: {statistics.median(times) * 1000:.1f} ms, {statistics.median(times) / page:.2f}× the page")


if __name__ == "__main__":
    main()

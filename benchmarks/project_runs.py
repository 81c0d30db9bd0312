"""Classes running projects at scale (not a test): ``python -m benchmarks.project_runs [--runs 40000] [--due 5000]``.

A temporary SQLite database gets ``--projects`` published projects and ``--runs`` runs spread over the seeded schools
(every municipality), a tenth of them on one popular project; one teacher has ``--mine`` of them, and ``--due`` are
past their due date. It prints the query plan and median time of a project's public count (the popular project and
a typical one), of one page of «Мои классы», and the time of ``runs remind`` over the due runs, then of a second
run (which must send nothing).
"""

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text

from catalogue import create_app
from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.projects import runs
from catalogue.projects.models import Project, ProjectRun
from catalogue.taxonomy.models import Organization
from catalogue.taxonomy.seed import seed_taxonomies
from catalogue.workflow.models import Notification


def median_ms(run, times: int = 50) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=40_000)
    parser.add_argument("--mine", type=int, default=1_000)
    parser.add_argument("--due", type=int, default=5_000)
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
            "WARM_UP": False,
        }
    )
    rng = random.Random(1)  # noqa: S311  (made-up data, the same each run)
    today = dt.date(2026, 11, 28)
    with app.app_context():
        db.create_all()
        seed_taxonomies()
        teachers = db.session.scalars(
            insert(User).returning(User.id),
            [
                {"email": f"t{i}@example.ru", "password_hash": "-", "last_name": "Учитель", "first_name": "Анна"}
                for i in range(200)
            ],
        ).all()
        projects = db.session.scalars(
            insert(Project).returning(Project.id),
            [
                {
                    "title": f"Проект {i:05d}",
                    "summary": "-",
                    "goal": "-",
                    "format": "group",
                    "duration_weeks": 4,
                    "expected_results": "-",
                    "status": "published",
                    "published_at": dt.datetime(2026, 1, 1),
                    "author_id": teachers[0],
                }
                for i in range(args.projects)
            ],
        ).all()
        schools = db.session.execute(select(Organization.id, Organization.municipality_id)).all()
        rows = []
        for n in range(args.runs):
            school, municipality = rng.choice(schools)
            project = projects[0] if n % 10 == 0 else rng.choice(projects)
            due = n < args.due
            started = today - dt.timedelta(weeks=5 if due else 1, days=rng.randrange(200 if due else 3))
            rows.append(
                {
                    "project_id": project,
                    "teacher_id": teachers[-1] if n >= args.runs - args.mine else rng.choice(teachers[:-1]),
                    "organization_id": school,
                    "municipality_id": municipality,
                    "class_label": f"{n}",
                    "class_key": f"{n}",
                    "grade": 6 + n % 6,
                    "started_on": started,
                    "due_on": started + dt.timedelta(weeks=4),
                    "pupils": 25,
                }
            )
        db.session.execute(insert(ProjectRun), rows)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()

        count_sql = select(func.count(ProjectRun.id), func.count(func.distinct(ProjectRun.municipality_id))).where(
            ProjectRun.project_id == projects[0]
        )
        compiled = count_sql.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        print("count's plan:", "; ".join(row[-1] for row in plan))
        popular = runs.run_counts(projects[0])
        print(
            f"count of the popular project ({popular.classes:,} classes in {popular.municipalities} municipalities): "
            f"{median_ms(lambda: runs.run_counts(projects[0])):.2f} ms"
        )
        typical = runs.run_counts(projects[1])
        print(
            f"count of a typical project ({typical.classes} classes): "
            f"{median_ms(lambda: runs.run_counts(projects[1])):.2f} ms"
        )
        mine = db.session.get(User, teachers[-1])
        with app.test_request_context():
            page = runs.runs_of(mine)
            print(
                f"«Мои классы», first page of {page.total:,}: "
                f"{median_ms(lambda: (runs.runs_of(mine), db.session.expunge_all())):.2f} ms"
            )
        with app.test_request_context("/", method="POST"):
            start = time.perf_counter()
            sent = runs.remind_due(today)
            first = time.perf_counter() - start
            start = time.perf_counter()
            again = runs.remind_due(today)
            second = time.perf_counter() - start
        notices = db.session.scalar(select(func.count(Notification.id)))
        print(f"remind: {sent:,} sent ({notices:,} notices) in {first:.2f} s, {sent / first:,.0f} a second")
        print(f"remind again: {again} sent in {second * 1000:.1f} ms")


if __name__ == "__main__":
    main()

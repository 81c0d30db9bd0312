"""How long `/monitoring/` takes on a large data set (not a test).

``python -m benchmarks.monitoring --projects 20000 --reports 20000 --entries 50000 --practices 2000``: a temporary
SQLite database gets the taxonomies and that many published items (bulk INSERTs, spread over the seeded schools,
five years, two age groups and spheres), then the page is requested in process, public and as an administrator
(with the schools of Иркутск), beside «О проекте» (a page of text) for scale. Prints the median of ``--rounds``
requests and the number of SQL statements of one request, right after a change of content (the counts kept per
content generation are made again) and again without one; the page cache is off.
"""

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import click
from sqlalchemy import event, insert, select


def _fill(projects: int, reports: int, entries: int, practices: int) -> None:
    from catalogue.accounts.models import User, UserRole
    from catalogue.contest.models import AgeCategory, Entry, Nomination, Season
    from catalogue.extensions import db
    from catalogue.practices.models import Practice, PracticeAdoption
    from catalogue.projects.models import Project, ProjectReport
    from catalogue.taxonomy.models import Organization
    from catalogue.taxonomy.seed import seed_taxonomies
    from catalogue.workflow.models import Status

    seed_taxonomies()
    schools = list(db.session.scalars(select(Organization)))
    years = range(2022, 2027)
    teacher = db.session.execute(
        insert(User).returning(User.id),
        [{"email": "t@example.ru", "password_hash": "x", "last_name": "П", "first_name": "П", "search_folded": ""}],
    ).scalar_one()
    db.session.execute(insert(UserRole), [{"user_id": teacher, "role": "admin"}])
    students = db.session.execute(
        insert(User).returning(User.id),
        [{"email": f"s{i}@example.ru", "password_hash": "x", "last_name": "У", "first_name": "У", "search_folded": ""}
         for i in range(max(1, entries // 2))],
    ).scalars().all()  # fmt: skip

    def at(i: int) -> dt.datetime:
        return dt.datetime(years[i % len(years)], 1 + i % 12, 10)

    def chunks(model, rows):
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(model), rows[start : start + 2000])

    chunks(Project, [
        {"title": f"П{i}", "summary": "", "goal": "", "format": "group", "duration_weeks": 4, "expected_results": "",
         "organization_id": schools[i % len(schools)].id, "author_id": teacher, "status": Status.PUBLISHED,
         "published_at": at(i)} for i in range(projects)
    ])  # fmt: skip
    project = db.session.scalar(select(Project.id).limit(1))
    chunks(ProjectReport, [
        {"project_id": project, "organization_id": schools[i % len(schools)].id, "class_name": "8", "grade": 6 + i % 6,
         "started_on": at(i).date(), "finished_on": at(i).date(), "participants": 5 + i % 25, "body": "",
         "results": "", "author_id": teacher, "status": Status.PUBLISHED, "published_at": at(i)}
        for i in range(reports)
    ])  # fmt: skip
    seasons = []
    for year in years:
        season = Season(year=year, title=f"Сезон {year}", submission_opens=dt.date(year, 1, 1),
                        submission_closes=dt.date(year, 2, 1), judging_opens=dt.date(year, 2, 2),
                        judging_closes=dt.date(year, 3, 1), results_date=dt.date(year, 3, 2),
                        results_published_at=dt.datetime(year, 3, 2))  # fmt: skip
        season.nominations = [Nomination(name=n) for n in ("Техника", "Архитектура", "Дизайн")]
        season.age_categories = [AgeCategory(name="6–8 классы", grade_from=6, grade_to=8),
                                 AgeCategory(name="9–11 классы", grade_from=9, grade_to=11)]  # fmt: skip
        db.session.add(season)
        seasons.append(season)
    db.session.flush()
    chunks(Entry, [
        {"season_id": (s := seasons[i % len(seasons)]).id, "nomination_id": s.nominations[i % 3].id,
         "age_category_id": s.age_categories[i % 2].id, "title": "Р", "description": "",
         "author_id": students[i % len(students)], "organization_id": schools[i % len(schools)].id,
         "grade": 6 + i % 6, "status": Status.PUBLISHED, "award": ("winner", "prize", None, None)[i % 4]}
        for i in range(entries)
    ])  # fmt: skip
    chunks(Practice, [
        {"title": f"Пр{i}", "summary": "", "description": "", "organization_id": (o := schools[i % len(schools)]).id,
         "municipality_id": o.municipality_id, "grade_from": 6, "grade_to": 11, "period_from": dt.date(2024, 1, 1),
         "results": "", "contacts": "", "status": Status.PUBLISHED, "published_at": at(i), "author_id": teacher}
        for i in range(practices)
    ])  # fmt: skip
    practice_ids = list(db.session.scalars(select(Practice.id)))
    chunks(PracticeAdoption, [
        {"practice_id": p, "organization_id": schools[(i + k + 1) % len(schools)].id, "adopted_on": at(i + k).date()}
        for i, p in enumerate(practice_ids) for k in range(3)
    ])  # fmt: skip
    db.session.commit()


@click.command()
@click.option("--projects", default=20_000, show_default=True)
@click.option("--reports", default=20_000, show_default=True)
@click.option("--entries", default=50_000, show_default=True)
@click.option("--practices", default=2_000, show_default=True)
@click.option("--rounds", default=7, show_default=True)
def main(projects: int, reports: int, entries: int, practices: int, rounds: int) -> None:
    from catalogue import create_app, page_cache
    from catalogue.extensions import db
    from catalogue.taxonomy.models import Municipality

    with tempfile.TemporaryDirectory() as directory:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(directory) / 'bench.db'}", "INSTANCE_PATH": directory,
            "PAGE_CACHE": False, "WARM_UP": False, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        })  # fmt: skip
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            _fill(projects, reports, entries, practices)
            click.echo(f"filled in {time.perf_counter() - started:.1f} s")
            irkutsk = db.session.scalar(select(Municipality.id).where(Municipality.name == "город Иркутск"))
            statements = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
        public, admin = app.test_client(), app.test_client()
        with app.app_context():
            from catalogue.accounts.services import create_user
            from catalogue.roles import Role

            create_user("admin@example.ru", "bench-bench-2026", "А", "А", {Role.ADMIN})
            db.session.commit()
        login = {"email": "admin@example.ru", "password": "bench-bench-2026"}
        assert admin.post("/auth/login", data=login).status_code == 303
        pages = [("О проекте", public, "/about"), ("/monitoring/", public, "/monitoring/"),
                 ("/monitoring/?age=8-9&sphere=it", public, "/monitoring/?age=8-9&sphere=it"),
                 ("/monitoring/indicators.csv", public, "/monitoring/indicators.csv"),
                 ("an administrator, Иркутск's schools", admin, f"/monitoring/?municipality={irkutsk}")]  # fmt: skip
        for label, client, url in pages:
            client.get(url)
            for after_a_change in (True, False):
                times = []
                for _ in range(rounds):
                    if after_a_change:  # the counts kept for the content generation are gone
                        with app.app_context():
                            page_cache.bump(db.session)
                            db.session.commit()
                    statements.clear()
                    started = time.perf_counter()
                    client.get(url).get_data()
                    times.append(time.perf_counter() - started)
                when = "after a change" if after_a_change else "again"
                median = statistics.median(times) * 1000
                click.echo(f"{label}, {when}: {median:.0f} ms median, {len(statements)} statements")


if __name__ == "__main__":
    main()

"""Every list page makes as many queries for 40 items as for 2, and every page of the site is either such a
list or says why it is not one, so a new list cannot be forgotten."""

import datetime as dt
import itertools

import pytest
from sqlalchemy import insert, select

from catalogue import page_cache
from catalogue.accounts.models import User, UserRole
from catalogue.contest import seasons
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.jobs.models import Job
from catalogue.practices.models import Practice, PracticeAdoption
from catalogue.projects.models import Project, ProjectReport, ProjectRun
from catalogue.search import thesaurus
from catalogue.subscriptions.models import Subscription
from catalogue.taxonomy.models import Municipality, Organization
from catalogue.workflow.models import Notification, Status
from tests.contest_support import make_season
from tests.helpers import published_practice_row, recorded_statements

BASE = dt.datetime(2026, 1, 1, 9, 0)
YEAR = 2030
numbers = itertools.count()


def _projects(people, count: int, status: str = Status.PUBLISHED) -> None:
    rows = []
    for _ in range(count):
        i = next(numbers)
        moment = BASE + dt.timedelta(minutes=i)
        rows.append(
            {
                "title": f"Проект {i}",
                "summary": "Кратко.",
                "goal": "Цель.",
                "format": "group",
                "duration_weeks": 4,
                "expected_results": "Итог.",
                "status": status,
                "published_at": moment if status == Status.PUBLISHED else None,
                "submitted_at": moment,
                "author_id": people["teacher"].id,
            }
        )
    db.session.execute(insert(Project), rows)


def _practices(people, count: int) -> None:
    school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    rows = []
    for _ in range(count):
        i = next(numbers)
        rows.append(published_practice_row(i, school, people["teacher"].id, BASE + dt.timedelta(minutes=i)))
    db.session.execute(insert(Practice), rows)


def _entries(people, count: int) -> None:
    season = people["season"]
    groups = [(n.id, c.id) for n in season.nominations for c in season.age_categories]
    rows = []
    for _ in range(count):
        i = next(numbers)
        nomination, category = groups[i % len(groups)]
        rows.append(
            {
                "season_id": season.id,
                "nomination_id": nomination,
                "age_category_id": category,
                "title": f"Работа {i}",
                "description": "Модель.",
                "author_id": people["student"].id,
                "organization_id": people["student"].organization_id,
                "grade": 8,
                "status": Status.PUBLISHED,
                "published_at": BASE + dt.timedelta(minutes=i),
            }
        )
    db.session.execute(insert(Entry), rows)


def _awarded_entries(people, count: int) -> None:
    """Published results: ``count`` entries of the first nomination and category, places 1, 2, 3, … with awards."""
    season = people["season"]
    season.results_confirmed_at = season.results_published_at = BASE
    nomination, category = season.nominations[0].id, season.age_categories[0].id
    rows = []
    for _ in range(count):
        i = next(numbers)
        rows.append(
            {
                "season_id": season.id,
                "nomination_id": nomination,
                "age_category_id": category,
                "title": f"Работа {i}",
                "description": "Модель.",
                "author_id": people["student"].id,
                "grade": 8,
                "status": Status.PUBLISHED,
                "rank": i + 1,
                "total_score": 100.0 - i,
                "award": "winner" if i == 0 else "prize" if i < 3 else "participant",
            }
        )
    db.session.execute(insert(Entry), rows)


def _first_group(people) -> str:
    season = people["season"]
    return f"/contest/{YEAR}/results?nomination={season.nominations[0].id}&age={season.age_categories[0].id}"


def _schools_of_first_municipality(people) -> str:
    school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    return f"/monitoring/?municipality={school.municipality_id}"


def _adoptions(people, count: int) -> None:
    """``count`` practices, each adopted by a new school (so the report's two paged tables both grow)."""
    _practices(people, count)
    _organizations(people, count)
    practices = db.session.scalars(select(Practice.id).order_by(Practice.id.desc()).limit(count)).all()
    schools = db.session.scalars(select(Organization.id).order_by(Organization.id.desc()).limit(count)).all()
    rows = [
        {"practice_id": p, "organization_id": o, "adopted_on": dt.date(2026, 2, 1), "author_id": people["teacher"].id}
        for p, o in zip(practices, schools, strict=True)
    ]
    db.session.execute(insert(PracticeAdoption), rows)


def _draft_projects(people, count: int) -> None:
    _projects(people, count, status=Status.DRAFT)


def _notifications(people, count: int) -> None:
    rows = [{"user_id": people["teacher"].id, "text": f"Уведомление {next(numbers)}", "url": "/"} for _ in range(count)]
    db.session.execute(insert(Notification), rows)


def _subscriptions(people, count: int) -> None:
    rows = []
    for _ in range(count):
        i = next(numbers)
        moment = BASE + dt.timedelta(minutes=i)
        rows.append(
            {
                "user_id": people["teacher"].id,
                "kind": "projects",
                "query": f"duration={i}",
                "title": f"Типовые проекты {i}",
                "frequency": "weekly",
                "created_at": moment,
                "watermark": moment,
            }
        )
    db.session.execute(insert(Subscription), rows)


def _users(people, count: int, role: str = "teacher", **columns) -> None:
    """``count`` people with ``role`` (teachers not yet confirmed, by default)."""
    rows = []
    for _ in range(count):
        i = next(numbers)
        rows.append(
            {
                "email": f"person{i}@example.ru",
                "password_hash": "-",
                "last_name": "Петрова",
                "first_name": f"Мария {i}",
                "search_folded": f"петрова мария {i}",
                **columns,
            }
        )
    ids = db.session.scalars(insert(User).returning(User.id), rows).all()
    db.session.execute(insert(UserRole), [{"user_id": user_id, "role": role} for user_id in ids])


def _students(people, count: int) -> None:
    """Students of the teacher's school."""
    _users(people, count, role="student", grade=8, organization_id=people["teacher"].organization_id)


def _organizations(people, count: int) -> None:
    municipality = db.session.scalar(select(Municipality).order_by(Municipality.id).limit(1))
    rows = []
    for _ in range(count):
        i = next(numbers)
        rows.append({"name": f"Школа № {i}", "name_folded": f"школа № {i}", "municipality_id": municipality.id})
    db.session.execute(insert(Organization), rows)


def _reports(people, count: int) -> None:
    project = db.session.scalar(select(Project).where(Project.status == Status.PUBLISHED).limit(1))
    if project is None:
        _projects(people, 1)
        project = db.session.scalar(select(Project).where(Project.status == Status.PUBLISHED).limit(1))
    school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    rows = []
    for _ in range(count):
        i = next(numbers)
        rows.append(
            {
                "project_id": project.id,
                "organization_id": school.id,
                "class_name": f"{i} «А»",
                "grade": 8,
                "started_on": dt.date(2026, 2, 1),
                "finished_on": dt.date(2026, 3, 1),
                "participants": 20,
                "body": "Сделали.",
                "results": "Итоги.",
                "status": Status.PUBLISHED,
                "published_at": BASE + dt.timedelta(minutes=i),
                "author_id": people["teacher"].id,
            }
        )
    db.session.execute(insert(ProjectReport), rows)


def _runs(people, count: int) -> None:
    """``count`` published projects, each taken into class by the teacher (half of them with a report due)."""
    _projects(people, count)
    school = db.session.get(Organization, people["teacher"].organization_id)
    projects = db.session.scalars(select(Project.id).order_by(Project.id.desc()).limit(count)).all()
    start = dt.date(2026, 1, 1)
    rows = [
        {
            "project_id": p,
            "teacher_id": people["teacher"].id,
            "organization_id": school.id,
            "municipality_id": school.municipality_id,
            "class_label": "7Б",
            "class_key": "7Б",
            "grade": 7,
            "started_on": start,
            "due_on": start + dt.timedelta(weeks=4 if n % 2 else 520),
        }
        for n, p in enumerate(projects)
    ]
    db.session.execute(insert(ProjectRun), rows)


def _synonym_groups(people, count: int) -> None:
    rows = []
    for _ in range(count):
        i = next(numbers)
        rows.append(thesaurus.group_row([f"слово {i}", f"синоним {i}"]))
    db.session.execute(insert(thesaurus.SynonymGroup), rows)


def _submitted_projects(people, count: int) -> None:
    _projects(people, count, status=Status.SUBMITTED)


def _jobs(people, count: int) -> None:
    rows = [{"kind": "contest.collection", "key": f"list-{next(numbers)}", "state": "done"} for _ in range(count)]
    db.session.execute(insert(Job), rows)


# endpoint (and which of its pages): (address, who is logged in, how to add items to it)
LISTS = {
    "main.home": ("/", None, _projects),
    "projects.index": ("/projects/", None, _projects),
    "practices.index": ("/practices/", None, _practices),
    "contest.season": (f"/contest/{YEAR}/", None, _entries),
    "contest.season_results": (f"/contest/{YEAR}/results", None, _awarded_entries),
    "contest.season_results (a group)": (_first_group, None, _awarded_entries),
    "contest.admin_results": (f"/contest/admin/{YEAR}/results", "admin", _entries),
    "feeds.feed": ("/feeds/projects.atom", None, _projects),
    "subscriptions.projects_feed": ("/projects.atom?format=group", None, _projects),
    "subscriptions.practices_feed": ("/practices.atom?grade=8", None, _practices),
    "subscriptions.mine": ("/subscriptions/", "teacher", _subscriptions),
    "subscriptions.gallery_feed": (f"/contest/{YEAR}/gallery.atom", None, _entries),
    "workflow.queue": ("/moderation/", "moderator", _submitted_projects),
    "workflow.notifications": ("/account/notifications", "teacher", _notifications),
    "projects.mine": ("/projects/mine", "teacher", _draft_projects),
    "projects.runs_mine": ("/projects/classes", "teacher", _runs),
    "practices.mine": ("/practices/mine", "teacher", _practices),
    "practices.report": ("/practices/report", "moderator", _adoptions),
    "contest.mine": ("/contest/mine", "student", _entries),
    "contest.jury_index": ("/contest/jury/", "jury", _entries),
    "admin.users": ("/admin/users/", "admin", _users),
    "accounts.teachers": ("/account/teachers", "admin", _users),
    "accounts.students": ("/account/students", "teacher", _students),
    "taxonomy.organizations": ("/admin/taxonomy/organizations/", "admin", _organizations),
    "api.projects": ("/api/v1/projects", None, _projects),
    "api.practices": ("/api/v1/practices", None, _practices),
    "api.reports": ("/api/v1/reports", None, _reports),
    "api.contest_entry_list": ("/api/v1/contest/entries", None, _entries),
    "api.contest_entry_list (a season, as the gallery)": (f"/api/v1/contest/entries?season={YEAR}", None, _entries),
    "monitoring.index": ("/monitoring/", None, _adoptions),
    "monitoring.index (schools)": (_schools_of_first_municipality, "admin", _adoptions),
    "search.thesaurus_groups": ("/admin/taxonomy/thesaurus/", "admin", _synonym_groups),
    "jobs.admin_list": ("/admin/jobs/", "admin", _jobs),
}

# Pages that are not lists of rows, or whose lists are bounded by something other than the tables' size.
NOT_LISTS = {
    "static": "files of the application",
    "media.file": "one file",
    "media.thumbnail": "one file",
    "observability.healthz": "a fixed set of checks, each one query or a look at a folder",
    "observability.metrics": "counters and the same checks (tests/test_observability.py)",
    "main.privacy": "text",
    "main.about": "text: the roadmap's thirteen items",
    "main.a11y": "a switch that sets a cookie and redirects",
    "main.robots": "text",
    "main.favicon": "one file",
    "workflow.open_notification": "marks one notification read and redirects",
    "start.index": "sections of at most ten rows each, counted with the same queries (tests/test_start_pages.py)",
    "search.index": "the search engine's pages (SEARCH_PER_PAGE hits from the index)",
    "subscriptions.search_feed": "the search engine's newest FEED_LENGTH hits (one search call)",
    "subscriptions.unsubscribe": "one subscription, by its signed link",
    "search.suggest": "a few titles and words from the index (suggestions.TITLES, suggestions.WORDS)",
    "feeds.sitemap": "an index of files (tests/test_feeds.py counts it)",
    "feeds.sitemap_file": "at most SITEMAP_URLS_PER_FILE addresses",
    "contest.index": "seasons: one a year",
    "contest.admin_index": "seasons: one a year",
    "contest.admin_season": "one season's settings: its nominations, categories, criteria and jury",
    "contest.admin_progress": "the season's jurors: the few people an administrator assigned (counts by SQL)",
    "contest.admin_part": "a form",
    "contest.admin_edit": "a form",
    "contest.admin_create": "a form",
    "contest.admin_results_export": "a download, streamed (tests/test_exports_streaming.py)",
    "contest.collection": "one file, built by a background job (or «Сборник готовится»)",
    "contest.create": "a form",
    "contest.edit": "a form",
    "contest.entry": "one entry",
    "contest.diploma": "one PDF",
    "contest.consent_form_pdf": "one PDF",
    "contest.parent_consent": "one consent",
    "contest.jury_entry": "one entry",
    "contest.supervisors": "at most a page of matches for a typed name",
    "taxonomy.organization_options": "at most a page of matches for a typed name",
    "taxonomy.admin_index": "a menu",
    "taxonomy.age_groups": "a fixed taxonomy",
    "taxonomy.municipalities": "a fixed taxonomy: the oblast's municipalities",
    "taxonomy.spheres": "a fixed taxonomy",
    "taxonomy.edit_age_group": "a form",
    "taxonomy.edit_municipality": "a form",
    "taxonomy.edit_organization": "a form",
    "taxonomy.edit_sphere": "a form",
    "search.edit_thesaurus_group": "a form",
    "admin.edit_user": "a form",
    "accounts.profile": "one person",
    "accounts.edit_profile": "a form",
    "accounts.change_password": "a form",
    "accounts.login": "a form",
    "accounts.register": "a form",
    "accounts.request_login_link": "a form",
    "accounts.login_by_link": "a form",
    "accounts.request_reset": "a form",
    "accounts.reset_password": "a form",
    "workflow.review": "one item",
    "workflow.delete": "a form",
    "workflow.queue_count": "a number",
    "projects.detail": "one project",
    "projects.print_version": "one project",
    "projects.pdf_version": "one PDF",
    "projects.create": "a form",
    "projects.edit": "a form",
    "projects.report": "one report",
    "projects.report_create": "a form",
    "projects.report_edit": "a form",
    "projects.run_create": "a form, and the project's counts of classes: one grouped query",
    "projects.run_edit": "a form",
    "practices.detail": "one practice",
    "practices.pdf_version": "one PDF",
    "practices.create": "a form",
    "practices.edit": "a form",
    "practices.revision": "one revision",
    "practices.report_csv": "a download, streamed",
    "api.guide": "text",
    "api.openapi": "the API's document",
    "api.unknown": "a 404",
    "api.project": "one project",
    "api.practice": "one practice",
    "api.report": "one report",
    "api.contest_entry": "one entry",
    "api.seasons": "seasons: one a year, with their few nominations and categories (selectin)",
    "api.season": "one season",
    "api.municipality_list": "a fixed taxonomy: the oblast's municipalities",
    "api.age_group_list": "a fixed taxonomy",
    "api.sphere_list": "a fixed taxonomy",
    "api.format_list": "a fixed list in the code",
    "api.nomination_list": "nominations and categories: a few a season",
    "opendata.index": "one row per content type",
    "opendata.file": "a download, streamed 200 items at a time (tests/test_opendata.py counts its queries)",
    "monitoring.indicators_csv": "a download, streamed: the tables of monitoring.index",
    "monitoring.indicators_xlsx": "a download, streamed: the tables of monitoring.index",
}

def test_every_page_of_the_site_is_a_counted_list_or_says_why_not(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    classified = {key.split(" ")[0] for key in LISTS} | NOT_LISTS.keys()
    assert endpoints - classified == set(), "a new page: add it to LISTS (with a maker of items) or NOT_LISTS"
    assert classified - endpoints == set(), "a page that is gone"


@pytest.fixture
def people(app, make_user):
    made = {
        "admin": make_user(roles=("admin",), email="admin@example.ru"),
        "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
        "teacher": make_user(roles=("teacher",), email="teacher@example.ru"),
        "student": make_user(roles=("student",), email="student@example.ru"),
        "jury": make_user(roles=("jury",), email="jury@example.ru"),
    }
    with app.test_request_context():
        made["season"] = make_season(made["admin"], YEAR, phase="results")
        for nomination in made["season"].nominations:
            seasons.assign_juror(db.session.merge(made["admin"]), made["season"], nomination.id, made["jury"].id)
        db.session.expunge_all()
    return made


def count_queries(app, client, url: str) -> int:
    with app.app_context(), recorded_statements(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


@pytest.mark.parametrize("endpoint", sorted(LISTS))
def test_a_list_page_makes_as_many_queries_for_40_items_as_for_2(app, client, auth, people, endpoint):
    url, who, add = LISTS[endpoint]
    if who:
        auth.login(f"{who}@example.ru")
    with app.test_request_context():
        people["season"] = db.session.merge(people["season"])
        add(people, 2)
        db.session.commit()
        url = url(people) if callable(url) else url
    client.get(url)  # the first request fills the caches a process keeps
    # Both counts are of a page made after a change of content (the fragment cache holds nothing for it yet):
    # like with like, as the second count follows the 38 new items.
    with app.app_context():
        page_cache.bump(db.session)
        db.session.commit()
    with_two = count_queries(app, client, url)
    with app.test_request_context():
        people["season"] = db.session.merge(people["season"])
        add(people, 38)
        db.session.commit()
    with app.app_context():  # a change of content even where the items are private (jobs): the header's badge too
        page_cache.bump(db.session)
        db.session.commit()
    assert count_queries(app, client, url) == with_two

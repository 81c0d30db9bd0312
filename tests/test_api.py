"""The public JSON API: what a developer of another site gets from /api/v1/, and what nobody gets from it."""

import datetime as dt
import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import insert, select

from catalogue.api.openapi import PATHS
from catalogue.clock import utcnow
from catalogue.contest.models import Entry, Season
from catalogue.extensions import db
from catalogue.page_cache import ContentGeneration
from catalogue.practices.models import Practice, PracticeRoadmapItem, PracticeStep
from catalogue.projects import services as projects
from catalogue.taxonomy.models import Municipality, Organization
from catalogue.workflow import services as workflow
from tests.contest_support import make_entry, make_season, set_phase, years_ago
from tests.factories import make_project, report_data
from tests.helpers import published_practice_row

YEAR = 2031
# The minor whose data must never leave the site but in the public form «Дарья С.»
STUDENT = {
    "last_name": "Соколовская",
    "first_name": "Дарья",
    "middle_name": "Игоревна",
    "email": "dasha.sokolovskaya@example.ru",
}
TEACHER = {"last_name": "Первушина", "first_name": "Ольга", "middle_name": "Станиславовна"}


@pytest.fixture
def people(app, make_user):
    return {
        "admin": make_user(roles=("admin",), email="admin@example.ru"),
        "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
        "teacher": make_user(roles=("teacher",), email="olga.pervushina@example.ru", **TEACHER),
    }


@pytest.fixture
def catalogue(app, people):
    """Published projects, a report and practices, and a draft of each that must stay hidden."""
    moderator, teacher = people["moderator"], people["teacher"]
    ids = {}
    with app.test_request_context():
        made = [
            make_project(teacher, "published", moderator, title="Энергетики Ангары", ages=["8-9"]),
            make_project(teacher, "published", moderator, title="Юные геологи", ages=["10-11"], spheres=["it"]),
            make_project(teacher, "published", moderator, title="Лесное дело", ages=["8-9"], format="individual"),
        ]
        ids["draft_project"] = make_project(teacher, "draft", title="Черновик проекта").id
        ids["projects"] = [p.id for p in made]
        report = projects.create_report(db.session.merge(teacher), made[0], report_data())
        workflow.transition(db.session.merge(teacher), report, "submit")
        workflow.transition(db.session.merge(moderator), report, "publish")
        ids["report"] = report.id
        draft_report = projects.create_report(db.session.merge(teacher), made[0], report_data(class_name="9 «А»"))
        ids["draft_report"] = draft_report.id

        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        other = db.session.scalar(select(Municipality).where(Municipality.id != school.municipality_id).limit(1))
        rows = [published_practice_row(n, school, teacher.id, dt.datetime(2026, 3, n)) for n in (1, 2)]
        rows[1]["municipality_id"] = other.id
        rows.append(published_practice_row(3, school, teacher.id, None, status="draft"))
        db.session.execute(insert(Practice), rows)
        practice_ids = list(db.session.scalars(select(Practice.id).order_by(Practice.id)))
        db.session.execute(
            insert(PracticeStep), [{"practice_id": practice_ids[0], "position": 1, "title": "Договориться"}]
        )
        db.session.execute(insert(PracticeRoadmapItem), [{"practice_id": practice_ids[0], "item": 13}])
        ids["practices"], ids["draft_practice"] = practice_ids[:2], practice_ids[2]
        ids["municipality"], ids["other_municipality"] = school.municipality_id, other.id
        db.session.commit()
    return ids


@pytest.fixture
def site(app, make_user, people, catalogue):
    """All of the catalogue, and a season with an admitted entry of a minor and its published result."""
    admin, moderator, teacher = people["admin"], people["moderator"], people["teacher"]
    student = make_user(
        roles=("student",), grade=8, birth_date=years_ago(14), **{k: v for k, v in STUDENT.items() if k != "email"},
        email=STUDENT["email"],
    )  # fmt: skip
    ids = dict(catalogue)
    with app.test_request_context():
        season = make_season(admin, YEAR, phase="accepting")
        entry = make_entry(student, season, "published", moderator, title="Ракета-носитель", supervisor=teacher)
        ids["draft_entry"] = make_entry(student, season, "draft", nomination=1, title="Черновая модель").id
        ids["entry"] = entry.id
        set_phase(admin, season, "results")
        # The results as confirmation and publication leave them (tests/test_contest_results_pages.py tells those)
        entry.award, entry.rank, entry.total_score = "winner", 1, 20.0
        season.results_confirmed_at = season.results_published_at = utcnow()
        db.session.commit()
    return ids


def get_json(client, url: str, status: int = 200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    return response, response.get_json()


def titles(body) -> list[str]:
    return [item["title"] for item in body["data"]]


def test_a_developer_lists_published_projects_with_stages_and_the_catalogues_filters(client, catalogue):
    site = catalogue
    _, body = get_json(client, "/api/v1/projects")
    assert titles(body) == ["Лесное дело", "Юные геологи", "Энергетики Ангары"]  # newest first, no draft
    first = body["data"][2]
    assert [s["title"] for s in first["stages"]] == ["Погружение", "Модель"]
    assert first["url"] == f"http://localhost/projects/{site['projects'][0]}-energetiki-angary"
    assert first["author"] == "Ольга П."
    assert body["meta"] == {"total": 3, "limit": 20}
    # The catalogue's own filters, read by the catalogue's own parsing
    assert titles(get_json(client, "/api/v1/projects?age=8-9&sort=title")[1]) == ["Лесное дело", "Энергетики Ангары"]
    assert titles(get_json(client, "/api/v1/projects?format=individual")[1]) == ["Лесное дело"]
    assert titles(get_json(client, "/api/v1/projects?sphere=it")[1]) == ["Юные геологи"]
    # One project; a draft is not there for the API any more than for a visitor
    _, one = get_json(client, f"/api/v1/projects/{site['projects'][1]}")
    assert one["data"]["title"] == "Юные геологи"
    _, missing = get_json(client, f"/api/v1/projects/{site['draft_project']}", 404)
    assert missing["error"]["code"] == "not_found" and "Не найдено" in missing["error"]["message"]


def test_a_bad_filter_limit_or_cursor_is_a_400_that_says_what_is_wrong_in_russian(client):
    _, body = get_json(client, "/api/v1/projects?age=5-6", 400)
    assert body["error"]["code"] == "bad_request" and "age" in body["error"]["message"]
    assert "limit" in get_json(client, "/api/v1/practices?limit=101", 400)[1]["error"]["message"]
    assert "limit" in get_json(client, "/api/v1/practices?limit=0", 400)[1]["error"]["message"]
    assert "курсор" in get_json(client, "/api/v1/projects?after=вчера", 400)[1]["error"]["message"]
    assert "season" in get_json(client, "/api/v1/contest/entries?nomination=1", 400)[1]["error"]["message"]
    assert get_json(client, "/api/v1/no-such-list", 404)[1]["error"]["code"] == "not_found"


def test_cursors_walk_a_list_forwards_and_back_with_absolute_links(client, catalogue):
    _, first = get_json(client, "/api/v1/projects?limit=2&age=8-9")
    assert first["data"] and first["links"]["prev"] is None
    _, first = get_json(client, "/api/v1/projects?limit=1")
    seen = titles(first)
    page = first
    while page["links"]["next"]:
        assert page["links"]["next"].startswith("http://localhost/api/v1/projects?limit=1&after=")
        _, page = get_json(client, page["links"]["next"])
        seen += titles(page)
    assert seen == ["Лесное дело", "Юные геологи", "Энергетики Ангары"]
    back = []
    while page["links"]["prev"]:
        _, page = get_json(client, page["links"]["prev"])
        back = titles(page) + back
    assert back == seen[:-1]


def test_practices_reports_and_taxonomies(client, catalogue):
    site = catalogue
    _, body = get_json(client, "/api/v1/practices")
    assert titles(body) == ["Практика 00002", "Практика 00001"]
    practice = body["data"][1]
    assert practice["steps"] == [{"title": "Договориться", "description": ""}]
    assert practice["roadmap_items"][0]["number"] == 13
    only = get_json(client, f"/api/v1/practices?municipality={site['other_municipality']}")[1]
    assert titles(only) == ["Практика 00002"]
    assert get_json(client, f"/api/v1/practices/{site['draft_practice']}", 404)
    _, reports = get_json(client, "/api/v1/reports")
    assert [r["id"] for r in reports["data"]] == [site["report"]]
    assert reports["data"][0]["project"]["title"] == "Энергетики Ангары"
    assert get_json(client, f"/api/v1/reports?project={site['projects'][1]}")[1]["data"] == []
    assert get_json(client, f"/api/v1/reports/{site['draft_report']}", 404)
    assert len(get_json(client, "/api/v1/municipalities")[1]["data"]) == 42
    assert "8-9" in [g["slug"] for g in get_json(client, "/api/v1/age-groups")[1]["data"]]
    assert "it" in [s["slug"] for s in get_json(client, "/api/v1/spheres")[1]["data"]]
    assert [f["slug"] for f in get_json(client, "/api/v1/formats")[1]["data"]] == ["individual", "group"]


def test_contest_entries_as_the_gallery_shows_them_with_the_published_results(app, client, site):
    _, seasons = get_json(client, "/api/v1/contest/seasons")
    assert [s["year"] for s in seasons["data"]] == [YEAR] and seasons["data"][0]["results_published"]
    nominations = get_json(client, "/api/v1/nominations")[1]["data"]
    assert [(n["name"], n["season"]) for n in nominations] == [("Техника будущего", YEAR), ("Архитектура", YEAR)]
    _, body = get_json(client, f"/api/v1/contest/entries?season={YEAR}")
    assert titles(body) == ["Ракета-носитель"]  # the draft is not admitted
    entry = body["data"][0]
    assert (entry["author"], entry["grade"], entry["award"], entry["place"]) == ("Дарья С.", 8, "winner", 1)
    assert titles(get_json(client, "/api/v1/contest/entries")[1]) == ["Ракета-носитель"]
    with app.app_context():
        nomination = db.session.scalar(select(Season).where(Season.year == YEAR)).nominations[1].id
    assert get_json(client, f"/api/v1/contest/entries?season={YEAR}&nomination={nomination}")[1]["data"] == []
    assert get_json(client, f"/api/v1/contest/entries/{site['draft_entry']}", 404)
    # Before the results are published nobody sees an award or a place; blind judging hides the author too
    with app.app_context():
        season = db.session.scalar(select(Season).where(Season.year == YEAR))
        season.results_published_at, season.blind_judging = None, True
        db.session.commit()
    _, hidden = get_json(client, f"/api/v1/contest/entries/{site['entry']}")
    assert hidden["data"]["author"] is None and hidden["data"]["award"] is None and hidden["data"]["place"] is None


def test_no_response_holds_personal_data_of_the_student_or_the_teacher(app, client, site):
    """Every endpoint, lists and items: the minor only as «Дарья С.», nobody's e-mail, middle name or birth date."""
    with app.app_context():
        birth = db.session.scalar(select(Entry).where(Entry.id == site["entry"])).author.birth_date
    urls = [
        "/api/v1/projects", f"/api/v1/projects/{site['projects'][0]}", "/api/v1/practices",
        f"/api/v1/practices/{site['practices'][0]}", "/api/v1/reports", f"/api/v1/reports/{site['report']}",
        "/api/v1/contest/seasons", f"/api/v1/contest/seasons/{YEAR}", "/api/v1/contest/entries",
        f"/api/v1/contest/entries?season={YEAR}", f"/api/v1/contest/entries/{site['entry']}",
    ]  # fmt: skip
    seen = ""
    for url in urls:
        text = client.get(url).get_data(as_text=True)
        seen += json.dumps(json.loads(text), ensure_ascii=False)
    assert "Дарья С." in seen
    for secret in (
        STUDENT["last_name"], STUDENT["middle_name"], STUDENT["email"], TEACHER["middle_name"], TEACHER["last_name"],
        "olga.pervushina@example.ru", "@example.ru", birth.isoformat(), birth.strftime("%d.%m.%Y"), "author_id",
        "email", "birth",
    ):  # fmt: skip
        assert secret not in seen, secret


def test_etag_304_cache_control_and_cors(client):
    response, _ = get_json(client, "/api/v1/projects?age=8-9")
    etag = response.headers["ETag"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    again = client.get("/api/v1/projects?age=8-9", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/api/v1/projects?age=10-11", headers={"If-None-Match": etag}).status_code == 200
    preflight = client.options(
        "/api/v1/projects",
        headers={"Origin": "https://school.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_a_client_over_the_rate_limit_waits_and_others_do_not(app, client):
    app.config["API_RATE_LIMIT"] = 3
    for _ in range(3):
        assert client.get("/api/v1/spheres").status_code == 200
    response, body = get_json(client, "/api/v1/spheres", 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Слишком много запросов" in body["error"]["message"] and "3 в минуту" in body["error"]["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # Another address has its own count; the pages of the site are not counted
    assert client.get("/api/v1/spheres", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200
    assert client.get("/projects/").status_code == 200
    # Counting is no change of content: the page cache's generation stays where it was
    with app.app_context():
        before = db.session.get(ContentGeneration, 1).value
    client.get("/api/v1/spheres", environ_base={"REMOTE_ADDR": "198.51.100.8"})
    with app.app_context():
        assert db.session.get(ContentGeneration, 1).value == before


def _validator(schema: dict, document: dict) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document["components"]}, format_checker=FormatChecker())


def test_every_endpoint_answers_as_its_openapi_document_says(app, client, site):
    _, document = get_json(client, "/api/v1/openapi.json")
    assert document["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"components": document["components"]})
    rules = {r.rule.removeprefix("/api/v1") for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    documented = {path.replace("{id}", "<int:item_id>").replace("{year}", "<int:year>") for path in PATHS}
    assert rules - {"/", "/<path:rest>", "/api/"} == documented
    values = {"id": None, "year": YEAR}
    item_ids = {
        "/projects/{id}": site["projects"][0], "/practices/{id}": site["practices"][0],
        "/reports/{id}": site["report"], "/contest/entries/{id}": site["entry"],
    }  # fmt: skip
    for path, operation in document["paths"].items():
        url = "/api/v1" + path.format(**{**values, "id": item_ids.get(path)})
        _, body = get_json(client, url)
        errors = list(_validator(operation["get"]["responses"]["200"]["content"]["application/json"]["schema"],
                                 document).iter_errors(body))  # fmt: skip
        assert not errors, (url, [e.message for e in errors])
        if "{" in path:  # an item that is not there: the document's 404
            _, missing = get_json(client, "/api/v1" + path.format(id=999999, year=1999), 404)
            schema = operation["get"]["responses"]["404"]["content"]["application/json"]["schema"]
            assert not list(_validator(schema, document).iter_errors(missing))
    _, bad = get_json(client, "/api/v1/projects?limit=1000", 400)
    assert not list(_validator({"$ref": "#/components/schemas/Error"}, document).iter_errors(bad))


def test_the_guide_page_explains_the_api_in_russian(client):
    page = client.get("/api/").get_data(as_text=True)
    assert "Открытый API" in page and "http://localhost/api/v1/projects?age=8-9" in page
    assert 'href="/opendata/"' in client.get("/").get_data(as_text=True)

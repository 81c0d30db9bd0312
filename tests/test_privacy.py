"""Minors' data stays private: review pages and histories only for the item's own people and staff, actors
named «Имя Ф.» to everyone else, blind judging hiding the author everywhere (search included); four eyes on
moderators' own work."""

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from catalogue.contest import seasons
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.permissions import Conflict
from catalogue.practices import services as practices
from catalogue.practices.models import PracticeRevision
from catalogue.projects.models import Project
from catalogue.search import registry as search_registry
from catalogue.search.outbox import SearchOutbox
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status
from tests.contest_support import (
    SCHOOL_A,
    SCHOOL_B,
    UNIVERSITY,
    loaded,
    make_entry,
    make_season,
    organization,
    season_data,
    set_phase,
)
from tests.factories import make_project
from tests.helpers import csrf_token
from tests.test_practices_factories import make_practice, practice_data

STUDENT_FULL = "Иванов Артём Дмитриевич"
STUDENT_SHORT = "Артём И."
SENIOR_FULL = "Соболева Алёна Игоревна"
SUPERVISOR_FULL = "Кузнецова Мария Ивановна"
SUPERVISOR_SHORT = "Мария К."
MODERATOR_FULL = "Петров Олег Сергеевич"
MODERATOR_SHORT = "Олег П."


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        school_a, school_b, university = organization(SCHOOL_A), organization(SCHOOL_B), organization(UNIVERSITY)
        made = {
            "admin": make_user(roles=("admin",), email="admin@example.ru", organization=None),
            "moderator": make_user(
                roles=("moderator",),
                email="moderator@example.ru",
                last_name="Петров",
                first_name="Олег",
                middle_name="Сергеевич",
                organization=None,
            ),
            "moderator2": make_user(roles=("moderator",), email="moderator2@example.ru", organization=None),
            "teacher": make_user(
                roles=("teacher",),
                email="teacher@example.ru",
                last_name="Кузнецова",
                first_name="Мария",
                middle_name="Ивановна",
                organization=school_a,
            ),
            "stranger": make_user(roles=("teacher",), email="stranger@example.ru", organization=school_b),
            "student": make_user(
                roles=("student",),
                email="student@example.ru",
                last_name="Иванов",
                first_name="Артём",
                middle_name="Дмитриевич",
                grade=8,
                organization=school_a,
            ),
            "senior": make_user(
                roles=("student",),
                email="senior@example.ru",
                last_name="Соболева",
                first_name="Алёна",
                middle_name="Игоревна",
                grade=10,
                birth_date=dt.date(dt.date.today().year - 16, 3, 15),
                organization=school_a,
            ),
            "classmate": make_user(roles=("student",), email="classmate@example.ru", organization=school_a),
            "juror": make_user(roles=("jury",), email="juror@example.ru", organization=university),
        }
        return loaded(made)


def login(client, user) -> None:
    from tests.helpers import DEFAULT_PASSWORD

    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303)


def page_as(app, user, url: str):
    """``url`` fetched by ``user`` (None: a visitor) with a client of its own."""
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client.get(url)


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def entry_id(app, people) -> int:
    """Артём's entry, supervised by Мария Ивановна, admitted by Олег Сергеевич (a season accepting entries)."""
    with app.test_request_context():
        season = make_season(people["admin"])
        entry = make_entry(
            people["student"], season, "published", moderator=people["moderator"], supervisor=people["teacher"]
        )
        return entry.id


# -- 1. the review page and the history are not for everyone ----------------------------------------


def test_stranger_cannot_read_entry_history(app, people, entry_id):
    url = f"/moderation/entry/{entry_id}"
    # The entry itself is public...
    assert page_as(app, None, f"/contest/entries/{entry_id}").status_code == 200
    # ...its review page and history are not: the same answer as for an item that does not exist
    for person in ("stranger", "classmate", "senior", "juror"):
        response = page_as(app, people[person], url)
        assert response.status_code == 404, person
        assert STUDENT_FULL not in text_of(response) and "На проверке" not in text_of(response)
    assert page_as(app, people["stranger"], "/moderation/entry/999999").status_code == 404


def test_stranger_cannot_act_on_an_entry_through_the_workflow_either(app, people, entry_id):
    client = app.test_client()
    login(client, people["stranger"])
    token = csrf_token(client, "/")
    response = client.post(f"/workflow/entry/{entry_id}/unpublish", data={"csrf_token": token, "comment": "x"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Entry, entry_id).status == Status.PUBLISHED


def test_author_and_supervisor_read_the_history_with_actors_in_public_form(app, people, entry_id):
    url = f"/moderation/entry/{entry_id}"
    for person in ("student", "teacher"):
        response = page_as(app, people[person], url)
        assert response.status_code == 200, person
        page = text_of(response)
        history = page[page.index("<h2>История</h2>") :]
        assert f"{STUDENT_SHORT}:" in history and f"{MODERATOR_SHORT}:" in history
        for full in (STUDENT_FULL, MODERATOR_FULL, SUPERVISOR_FULL):
            assert full not in page, (person, full)
        assert SUPERVISOR_SHORT in page


def test_staff_read_the_history_with_full_names(app, people, entry_id):
    for person in ("moderator2", "admin"):
        page = text_of(page_as(app, people[person], f"/moderation/entry/{entry_id}"))
        assert re.search(rf"{STUDENT_FULL}:\s+Черновик → На проверке", page)
        assert MODERATOR_FULL in page and SUPERVISOR_FULL in page


def test_review_pages_of_published_projects_and_revisions_are_not_public(app, people):
    with app.test_request_context():
        project = make_project(people["teacher"], "published", moderator=people["moderator"])
        practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
        revision = practices.revise_practice(
            db.session.merge(people["moderator2"]), practice, practice_data(contacts="new@example.ru")
        )
        workflow.transition(db.session.merge(people["moderator2"]), revision, "submit")
        workflow.transition(db.session.merge(people["moderator"]), revision, "publish")
        urls = [
            f"/moderation/project/{project.id}",
            f"/moderation/practice/{practice.id}",
            f"/moderation/practice_revision/{revision.id}",
        ]
    for url in urls:
        assert page_as(app, people["stranger"], url).status_code == 404, url
        assert page_as(app, people["teacher"], url).status_code == 200, url
    # The practice's author sees who proposed the revision in the public form
    page = text_of(page_as(app, people["teacher"], f"/practices/revisions/{revision.id}"))
    assert "Предложил(а) Анна И." in page


def test_public_pages_name_people_in_public_form_and_staff_see_full_names(app, people):
    with app.test_request_context():
        project = make_project(people["teacher"], "published", moderator=people["moderator"])
        url = f"/projects/{project.id}-{project.slug}"
    for viewer in (None, "stranger"):
        page = text_of(page_as(app, people[viewer] if viewer else None, url))
        assert SUPERVISOR_SHORT in page and SUPERVISOR_FULL not in page
    assert SUPERVISOR_FULL in text_of(page_as(app, people["moderator"], url))


# -- 2. blind judging hides the author everywhere -----------------------------------------------------


@pytest.fixture
def blind_entry(app, people) -> tuple[int, int]:
    """Алёна's admitted entry (supervised by Мария Ивановна) in a season being judged blind; (year, entry id)."""
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        seasons.assign_juror(admin, season, season.nominations[0].id, people["juror"].id)
        entry = make_entry(
            people["senior"], season, "published", moderator=people["moderator"], supervisor=people["teacher"]
        )
        seasons.update_season(admin, season, season_data(season.year, "judging", blind_judging=True))
        return season.year, entry.id


def test_jurors_pages_show_no_author_school_supervisor_or_original_file_name(app, people, blind_entry):
    year, entry_id = blind_entry
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        original = entry.model_file.original_name
    neutral = f"sozdatel-{year}-rabota-{entry_id}.stl"
    client = app.test_client()
    login(client, people["juror"])
    for url in (f"/contest/jury/?year={year}", f"/contest/jury/entries/{entry_id}", f"/contest/entries/{entry_id}"):
        page = text_of(client.get(url))
        for secret in ("Алёна", "Соболева", SCHOOL_A, "Кузнецова", "Мария", original):
            assert secret not in page, (url, secret)
    page = text_of(client.get(f"/contest/jury/entries/{entry_id}"))
    assert f"скачать {neutral}" in page
    # The neutral link serves the same file
    link = re.search(rf'href="(/files/[^"]+/{re.escape(neutral)})"', page).group(1)
    response = client.get(link)
    assert response.status_code == 200
    response.close()
    # The public sees no school either; the municipality stays
    public = text_of(page_as(app, None, f"/contest/entries/{entry_id}"))
    assert SCHOOL_A not in public and "Соболева" not in public and original not in public
    assert SCHOOL_A not in text_of(page_as(app, None, f"/contest/{year}/"))


def hits(client, query: str) -> list[str]:
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', text_of(response))]


def test_blind_mode_reindexes_the_season_and_search_hides_the_author(app, people):
    admin = people["admin"]
    with app.test_request_context():
        season = make_season(admin)
        year = season.year
        make_entry(people["senior"], season, "published", moderator=people["moderator"], title="Ракета-носитель")
        make_entry(people["student"], season, "draft", title="Черновик Артёма")
    client = app.test_client()
    # Not blind: the author's first name finds the entry
    assert hits(client, "Алёна") == ["Ракета-носитель"]

    def turn_blind(on: bool) -> None:
        with app.test_request_context():
            season = seasons.season_by_year(year)
            ids = set(db.session.scalars(select(Entry.id).where(Entry.season_id == season.id)))
            assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
            seasons.update_season(
                db.session.merge(admin), season, season_data(year, "judging", title=season.title, blind_judging=on)
            )
            # Committed with the flag: a row for every entry of the season, drafts too
            queued = db.session.scalars(select(SearchOutbox.content_id).where(SearchOutbox.content_type == "entry"))
            assert set(queued) == ids and len(ids) == 2

    turn_blind(True)
    assert hits(client, "Алёна") == []
    assert hits(client, "Соболева") == []
    assert hits(client, "Ракета") == ["Ракета-носитель"]
    with app.test_request_context():
        entry = db.session.scalar(select(Entry).where(Entry.title == "Ракета-носитель"))
        text = search_registry.get("entry").to_document(entry).text
        assert SCHOOL_A not in text and "Алёна" not in text and entry.organization.municipality.name in text
    # Blind mode off (the authors are public again): found again
    turn_blind(False)
    assert hits(client, "Алёна") == ["Ракета-носитель"]


def test_changing_other_season_settings_does_not_reindex(app, people):
    with app.test_request_context():
        year = make_season(people["admin"]).year
        make_entry(people["senior"], seasons.season_by_year(year), "published", moderator=people["moderator"])
    with app.test_request_context():
        set_phase(db.session.merge(people["admin"]), seasons.season_by_year(year), "judging")
        assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0


# -- 3. four eyes -------------------------------------------------------------------------------------


def test_moderator_does_not_publish_their_own_revision_of_anothers_practice(app, people, client):
    with app.test_request_context():
        practice = make_practice(people["teacher"], "published", moderator=people["moderator2"])
        moderator = db.session.merge(people["moderator"])
        revision = practices.revise_practice(moderator, practice, practice_data(contacts="new@example.ru"))
        workflow.transition(moderator, revision, "submit")
        assert [t.action for t in workflow.actions_for(moderator, revision)] == ["withdraw"]
        with pytest.raises(Conflict, match="другой модератор или администратор"):
            workflow.transition(moderator, revision, "publish")
        revision_id = revision.id
    # Over HTTP: no button, and the request is refused with the reason
    login(client, people["moderator"])
    page = text_of(client.get(f"/moderation/practice_revision/{revision_id}"))
    assert "Опубликовать" not in page
    response = client.post(
        f"/workflow/practice_revision/{revision_id}/publish", data={"csrf_token": csrf_token(client, "/")}
    )
    assert response.status_code == 409
    assert "другой модератор или администратор" in text_of(response)
    with app.test_request_context():
        # The admin publishes it
        revision = db.session.get(PracticeRevision, revision_id)
        workflow.transition(db.session.merge(people["admin"]), revision, "publish")
        assert revision.status == Status.PUBLISHED
        assert revision.practice.contacts == "new@example.ru"


def test_admin_publishes_their_own_only_when_no_other_staff_member_exists(app, people):
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        project = make_project(admin, "submitted")
        with pytest.raises(Conflict):
            workflow.transition(admin, project, "publish")
        for person in ("moderator", "moderator2"):
            db.session.merge(people[person]).active = False
        db.session.commit()
        # The only staff member left decides alone
        assert "publish" in [t.action for t in workflow.actions_for(admin, project)]
        workflow.transition(admin, project, "publish")
        assert project.status == Status.PUBLISHED


def test_four_eyes_can_be_turned_off(app, people, make_user):
    app.config["FOUR_EYES"] = False
    with app.test_request_context():
        both = make_user(roles=("teacher", "moderator"), email="both@example.ru")
        project = make_project(both, "published", moderator=both)
        assert db.session.get(Project, project.id).status == Status.PUBLISHED

"""The unit of work: search outbox rows come from the session's changes, also of the records items show,
and what follows a commit runs after it (and only if it happens)."""

import re

from sqlalchemy import select, update

from catalogue.accounts import services as accounts
from catalogue.extensions import db
from catalogue.projects.models import Project
from catalogue.search import indexer
from catalogue.taxonomy import services as taxonomy
from catalogue.taxonomy.models import Organization
from catalogue.unit_of_work import after_commit
from tests.contest_support import make_entry, make_season
from tests.factories import make_project


def titles_found(client, text: str) -> list[str]:
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)]


def test_renaming_an_organization_a_municipality_and_a_person_keeps_the_index_true(app, client, make_user, runner):
    with app.app_context():
        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        school_id, old_school, old_place = school.id, school.name, school.municipality.name
    admin = make_user(roles=("admin",), email="admin@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    student = make_user(roles=("student",), email="student@example.ru", first_name="Ульяна", last_name="Тарасова")
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Школьная метеостанция")
        season = make_season(admin, blind_judging=False)
        make_entry(student, season, "published", moderator=moderator, title="Модель ледокола")
    assert "Школьная метеостанция" in titles_found(client, old_school)
    assert "Модель ледокола" in titles_found(client, "Ульяна")

    def index_is_true() -> bool:
        result = runner.invoke(args=["search", "check"])
        return result.exit_code == 0 and "Индекс соответствует базе данных." in result.output

    with app.test_request_context():
        school = db.session.get(Organization, school_id)
        taxonomy.save_organization(
            admin, school, taxonomy.OrganizationData("Лицей имени Нансена", school.kind, school.municipality_id)
        )
    assert index_is_true()
    assert set(titles_found(client, "Нансена")) == {"Школьная метеостанция", "Модель ледокола"}

    with app.test_request_context():
        municipality = db.session.get(Organization, school_id).municipality
        taxonomy.save_municipality(
            admin, municipality, taxonomy.MunicipalityData("Заполярный район", municipality.kind)
        )
    assert index_is_true()
    assert set(titles_found(client, "Заполярный")) == {"Школьная метеостанция", "Модель ледокола"}
    assert "Школьная метеостанция" not in titles_found(client, old_place)

    with app.test_request_context():
        # The person as loaded now (merging the detached one would bring back the school's old name).
        person = db.session.get(type(student), student.id)
        accounts.update_profile(person, accounts.ProfileChanges("Тарасова", "Снежана", "", grade=8))
    assert index_is_true()
    assert titles_found(client, "Снежана") == ["Модель ледокола"]
    assert titles_found(client, "Ульяна") == []


def test_effects_run_after_the_commit_and_never_after_a_rollback(app):
    ran = []
    with app.app_context():
        db.session.execute(select(Organization.id).limit(1))
        after_commit(lambda: ran.append("rolled back"))
        db.session.rollback()
        after_commit(lambda: ran.append("first"))
        after_commit(lambda: ran.append("once"), key="k")
        after_commit(lambda: ran.append("twice"), key="k")
        assert ran == []
        db.session.commit()
        db.session.commit()
    assert ran == ["first", "once"]


def test_the_index_check_of_every_test_sees_a_stale_item(app, make_user):
    """What the suite's fixture relies on: a change written behind the unit of work's back is reported."""
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    with app.test_request_context():
        project_id = make_project(teacher, "published", moderator=moderator, title="Школьная метеостанция").id
    with app.app_context():
        db.session.execute(update(Project).where(Project.id == project_id).values(title="Иное"))
        db.session.commit()
        report = indexer.check()
        # Both the index and the stored text of the search page are behind
        assert report.stale == [f"project:{project_id}", f"project:{project_id} (stored text)"]
        indexer.rebuild()

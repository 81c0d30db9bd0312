"""Replication («тиражирование»): schools mark a practice adopted; moderators read the report and export it."""

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from catalogue.clock import local_today
from catalogue.exports import safe_cell
from catalogue.extensions import db
from catalogue.permissions import Conflict, InvalidInput
from catalogue.practices import services as practices
from catalogue.practices.models import Practice, PracticeAdoption
from catalogue.workflow.models import Notification
from tests.helpers import csrf_token
from tests.test_practices_factories import (
    IRKUTSK_LYCEUM,
    adopt,
    login,
    make_people,
    make_practice,
    organization,
    practice_maker,
)


@pytest.fixture
def people(app, make_user):
    return make_people(app, make_user)


@pytest.fixture
def practice_in(app, people):
    return practice_maker(app, people)


def mark(client, practice_id: int, adopted_on: str = "2025-03-01", comment: str = "", token: str = "", **headers):
    data = {"csrf_token": token or csrf_token(client, "/"), "adopted_on": adopted_on, "comment": comment}
    return client.post(f"/practices/{practice_id}/adopt", data=data, headers=headers)


def adoption_count(app, practice_id: int) -> int:
    """How many marks the practice has; the count stored on the practice (its «чаще внедряют» order) agrees."""
    with app.app_context():
        marks = db.session.scalar(
            select(func.count(PracticeAdoption.id)).where(PracticeAdoption.practice_id == practice_id)
        )
        assert db.session.get(Practice, practice_id).adoption_count == marks
        return marks


# -- marking ----------------------------------------------------------------------------------------


def test_teacher_of_another_school_marks_the_practice_adopted_and_the_page_counts_it(app, client, practice_in, people):
    practice_id = practice_in()
    login(client, people["bratsk"])
    # The form is on the practice page
    page = client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert "Внедрили у себя" in page and "МБОУ «СОШ № 12» г. Братска" in page
    response = mark(client, practice_id, "2025-03-01", "Провели три встречи для 9-х классов.")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Внедрение отмечено" in page
    # Everyone sees how many organizations and which municipalities adopted it
    public = app.test_client().get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert "Внедрили: 1 организация" in public
    assert "в 1 муниципалитете" in public and "город Братск" in public
    assert "Провели три встречи для 9-х классов." in public
    assert "с 1 марта 2025" in public
    # The author is told
    with app.app_context():
        notes = db.session.scalars(select(Notification.text).where(Notification.user_id == people["teacher"].id))
        assert any("МБОУ «СОШ № 12» г. Братска (город Братск) внедрила вашу практику" in text for text in notes)


def test_adoptions_from_several_municipalities_are_counted(app, practice_in, people, client):
    practice_id = practice_in()
    with app.test_request_context():
        practice = db.session.get(Practice, practice_id)
        adopt(people["bratsk"], practice)
        adopt(people["angarsk"], practice)
    page = client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert "Внедрили: 2 организации" in page and "в 2 муниципалитетах" in page
    assert "Ангарский городской округ" in page and "город Братск" in page
    assert "Внедрили: 2 организации" in client.get("/practices/").get_data(as_text=True)


def test_a_second_mark_by_the_same_organization_is_refused_politely(app, practice_in, people, make_user):
    practice_id = practice_in()
    first, second = app.test_client(), app.test_client()
    with app.app_context():
        lyceum_teacher = make_user(email="lyceum@example.ru", organization=organization(IRKUTSK_LYCEUM))
        lyceum_colleague = make_user(email="lyceum2@example.ru", organization=organization(IRKUTSK_LYCEUM))
        db.session.refresh(lyceum_teacher)
    login(first, lyceum_teacher)
    assert mark(first, practice_id).status_code == 303
    # A colleague from the same lyceum tries again: 409, a Russian explanation, nothing duplicated
    login(second, lyceum_colleague)
    page = second.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert "Ваша организация отметила внедрение 1 марта 2025" in page
    response = mark(second, practice_id, "2025-04-01", "Ещё раз")
    assert response.status_code == 409
    assert "уже отметила внедрение этой практики (1 марта 2025)" in response.get_data(as_text=True)
    assert adoption_count(app, practice_id) == 1


def test_the_database_also_refuses_a_duplicate_mark(app, practice_in, people):
    practice_id = practice_in()
    with app.test_request_context():
        bratsk = organization("МБОУ «СОШ № 12» г. Братска")
        adopt(people["bratsk"], db.session.get(Practice, practice_id))
        db.session.add(PracticeAdoption(practice_id=practice_id, organization_id=bratsk.id, adopted_on=local_today()))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert adoption_count(app, practice_id) == 1


def test_two_marks_racing_end_in_one_row_and_a_polite_conflict(app, practice_in, people, monkeypatch):
    practice_id = practice_in()
    with app.test_request_context():
        practice = db.session.get(Practice, practice_id)
        adopt(people["bratsk"], practice)
        # The second request checked before the first one's row was committed: it saw nothing ...
        original = db.session.scalar
        blinded = []

        def blind_first_lookup(stmt, *args, **kw):
            if not blinded and "practice_adoption" in str(stmt):
                blinded.append(stmt)
                return None
            return original(stmt, *args, **kw)

        monkeypatch.setattr(db.session, "scalar", blind_first_lookup)
        # ... so the unique constraint decides, and the person gets the same polite answer
        with pytest.raises(Conflict, match="уже отметила"):
            adopt(people["bratsk"], practice, dt.date(2025, 5, 1))
        monkeypatch.undo()
    assert adoption_count(app, practice_id) == 1


def test_the_practices_own_school_cannot_mark_it(app, client, practice_in, people):
    practice_id = practice_in()
    login(client, people["colleague"])  # same school as the author
    page = client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert "Это практика вашей организации" in page
    response = mark(client, practice_id)
    assert response.status_code == 422
    assert "Это практика вашей организации" in response.get_data(as_text=True)
    assert adoption_count(app, practice_id) == 0


def test_a_date_in_the_future_is_refused_and_the_comment_kept(app, client, practice_in, people):
    practice_id = practice_in()
    login(client, people["bratsk"])
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()  # the oblast's tomorrow
    response = mark(client, practice_id, tomorrow, "Начнём скоро")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Дата внедрения не может быть в будущем." in body and "Начнём скоро" in body
    assert mark(client, practice_id, "").status_code == 422
    assert adoption_count(app, practice_id) == 0


def test_students_cannot_mark_and_visitors_are_asked_to_log_in(app, client, practice_in, people):
    practice_id = practice_in()
    visitor = app.test_client()
    page = visitor.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert "входа на сайт" in page and "Внедрили у себя" not in page
    assert mark(visitor, practice_id).status_code in (302, 303)
    login(client, people["student"])
    assert mark(client, practice_id).status_code == 403
    assert adoption_count(app, practice_id) == 0


def test_unpublished_practices_cannot_be_marked(app, client, practice_in, people):
    draft_id, archived_id = practice_in("draft"), practice_in("archived")
    login(client, people["bratsk"])
    assert mark(client, draft_id).status_code == 404
    assert mark(client, archived_id).status_code == 404
    with app.test_request_context(), pytest.raises(InvalidInput, match="опубликованной"):
        adopt(people["bratsk"], db.session.get(Practice, archived_id))
    assert adoption_count(app, archived_id) == 0


def test_teacher_without_an_organization_is_told_to_set_it(app, make_user, practice_in):
    practice_id = practice_in()
    nobody = make_user(email="noorg@example.ru", organization=None)
    with app.test_request_context(), pytest.raises(InvalidInput, match="Укажите свою организацию"):
        adopt(nobody, db.session.get(Practice, practice_id))


def test_htmx_mark_returns_the_adoption_block_and_a_message(app, client, practice_in, people):
    practice_id = practice_in()
    login(client, people["bratsk"])
    response = mark(client, practice_id, **{"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Внедрили: 1 организация" in body
    assert "Ваша организация отметила внедрение" in body
    assert "flash_message" in response.headers["HX-Trigger"]
    assert "HX-Request" in response.headers["Vary"]
    # A refused second mark answers with the block too, and its message
    again = mark(client, practice_id, **{"HX-Request": "true"})
    assert again.status_code == 409 and "<html" not in again.get_data(as_text=True)


# -- the report -------------------------------------------------------------------------------------


@pytest.fixture
def adopted(app, people):
    """Two practices; the first adopted in Bratsk and Angarsk, the second in Bratsk."""
    with app.test_request_context():
        first = make_practice(people["teacher"], "published", moderator=people["moderator"], title="Первая практика")
        second = make_practice(people["angarsk"], "published", moderator=people["moderator"], title="Вторая практика")
        adopt(people["bratsk"], first, dt.date(2025, 2, 1), '=HYPERLINK("http://evil")')
        adopt(people["angarsk"], first, dt.date(2025, 3, 1), "+7 и -3; @всех")
        adopt(people["bratsk"], second, dt.date(2025, 4, 1), "Всё получилось")
        return first.id, second.id


def test_report_is_for_moderators_only(app, client, people):
    assert app.test_client().get("/practices/report").status_code in (302, 303)
    login(client, people["teacher"])
    assert client.get("/practices/report").status_code == 403
    assert client.get("/practices/report.csv").status_code == 403


def test_report_shows_adoptions_by_municipality_and_by_practice(app, client, people, adopted):
    with app.test_request_context():
        report = practices.adoption_report(db.session.merge(people["moderator"]))
        by_municipality = {r.municipality: (r.adoptions, r.organizations, r.practices) for r in report.by_municipality}
        assert by_municipality == {"город Братск": (2, 1, 2), "Ангарский городской округ": (1, 1, 1)}
        by_practice = [(r.practice.title, r.organizations, r.municipalities) for r in report.by_practice]
        assert by_practice == [("Первая практика", 2, 2), ("Вторая практика", 1, 1)]
        assert report.total == 3
    login(client, people["moderator"])
    page = client.get("/practices/report").get_data(as_text=True)
    assert "По муниципальным образованиям" in page and "По практикам" in page
    assert "Всего отметок «внедрили у себя»: <strong>3</strong>" in page


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_csv_export_opens_in_excel_and_cannot_run_formulas(app, client, people, adopted):
    login(client, people["moderator"])
    response = client.get("/practices/report.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="practices-adoptions-')
    rows = read_csv(response)
    assert rows[0][:4] == ["Практика", "Организация практики", "Внедрила организация", "Муниципальное образование"]
    comments = {row[5] for row in rows[1:]}
    # Cells that a spreadsheet would run as formulas start with an apostrophe
    assert '\'=HYPERLINK("http://evil")' in comments
    assert "'+7 и -3; @всех" in comments and "Всё получилось" in comments
    assert {row[4] for row in rows[1:]} == {"01.02.2025", "01.03.2025", "01.04.2025"}
    # The summaries too
    by_municipality = read_csv(client.get("/practices/report.csv?by=municipality"))
    assert by_municipality[1:] == [["город Братск", "2", "1", "2"], ["Ангарский городской округ", "1", "1", "1"]]
    by_practice = read_csv(client.get("/practices/report.csv?by=practice"))
    assert [row[0] for row in by_practice[1:]] == ["Первая практика", "Вторая практика"]
    assert client.get("/practices/report.csv?by=nothing").status_code == 404


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+79001234567", "'+79001234567"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("  =1", "'  =1"),
        ("Лицей № 2", "Лицей № 2"),
        (5, 5),
        (dt.date(2025, 3, 1), "01.03.2025"),
        (None, ""),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_the_adoption_form_is_kept_once_for_all_teachers_and_carries_each_ones_own_token(app, practice_in, people):
    practice_id = practice_in()
    pages, clients = {}, {}
    for name in ("bratsk", "angarsk"):
        clients[name] = app.test_client()
        login(clients[name], people[name])
        pages[name] = clients[name].get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)

    def form_of(html: str) -> str:
        return html.split('id="adoption"')[1].split("</form>")[0]

    def token_of(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', form_of(html)).group(1)

    # One piece for both (and for every practice): made for the first, served to the second
    kept = [key for key in app.extensions["fragments"].entries if "practices.adoption_fields" in key]
    assert len(kept) == 1
    bratsk, angarsk = pages["bratsk"], pages["angarsk"]
    assert token_of(bratsk) != token_of(angarsk) and "\x00" not in bratsk + angarsk
    # The rest is the same for both but the school's name, and today's date is filled in
    assert local_today().isoformat() in form_of(angarsk)
    assert "Братска" in form_of(bratsk) and "Братска" not in form_of(angarsk)
    # Each one's token works for them, and not for the other
    assert mark(clients["angarsk"], practice_id, token=token_of(bratsk)).status_code == 400
    answer = mark(clients["angarsk"], practice_id, token=token_of(angarsk))
    assert answer.status_code == 303 and adoption_count(app, practice_id) == 1
    # A bad date comes back in the form as it was typed, with the reason
    wrong = mark(clients["bratsk"], practice_id, "2999-01-01", "Провели три встречи.", token=token_of(bratsk))
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "Дата внедрения не может быть в будущем." in html
    assert 'value="2999-01-01"' in html and "Провели три встречи." in html

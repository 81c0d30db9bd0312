"""The contest's documents (collection PDF, diplomas, CSV and XLSX for the organizers) and minors' privacy
on every public page and document, checked on the demo content.
"""

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from catalogue.contest import collection, entries, results, seasons
from catalogue.contest.models import Entry, Season
from catalogue.demo import DEMO_PASSWORD, _seed_users
from catalogue.demo.contest import seed_contest
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.jobs import run_pending
from catalogue.jobs.models import Job
from catalogue.workflow.models import Status
from tests.contest_support import SCHOOL_A, SCHOOL_B, loaded, make_entry, make_season, organization, set_phase
from tests.helpers import csrf_token


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def built_diploma(app, client, entry_id: int):
    """The entry's diploma, once the job a first request queued has run: the response, read and closed."""
    client.get(f"/contest/entries/{entry_id}/diploma.pdf").close()
    with app.app_context():
        run_pending()
    with client.get(f"/contest/entries/{entry_id}/diploma.pdf") as response:
        response.get_data()
    return response


def built_collection(app, client, year: int):
    """The season's collection once its build (a background job) has run: the response, read and closed."""
    with app.app_context():
        collection.queue_build(seasons.season_by_year(year))
        db.session.commit()
        run_pending()
    with client.get(f"/contest/{year}/collection.pdf") as response:
        response.get_data()
    return response


@pytest.fixture
def demo(app):
    """The demo contest (a finished season with results and an open one); the finished season's year."""
    app.config["MAIL_SUPPRESS"] = True
    with app.test_request_context():
        _seed_users()
        seed_contest(DEMO_PASSWORD)
        return db.session.scalar(select(Season.year).where(Season.results_published_at.is_not(None)))


def test_demo_content_is_a_finished_season_and_an_open_one_and_loads_once(app, demo):
    with app.test_request_context():
        finished, current = db.session.scalars(select(Season).order_by(Season.year)).all()
        assert finished.results_published and finished.current_phase == "results"
        assert current.current_phase == "accepting"
        admitted = [e for e in entries.published_entries(finished)]
        assert len(admitted) >= 15
        assert all(e.model_file and e.viewer_file and e.model_file.thumbnail_key for e in admitted)
        assert {e.model_file.facts["format"] for e in admitted} >= {"stl", "obj", "glb", "3mf"}
        assert all(e.award for e in admitted)
        # Demo teachers are confirmed, supervisors accepted, under-14 entries confirmed by the parent's link
        from catalogue.accounts.models import Role, User
        from catalogue.accounts.supervision import supervises
        from catalogue.contest.parental import current_request

        teachers = db.session.scalars(select(User).where(User.role_rows.any(role=Role.TEACHER))).all()
        assert teachers and all(t.is_verified_teacher for t in teachers)
        supervised = [e for e in admitted if e.supervisor_id]
        assert supervised and all(supervises(e.supervisor_id, e.author_id) for e in supervised)
        young = [e for e in admitted if entries.needs_representative(e.author)]
        assert young and all(current_request(e).status == "confirmed" and e.consents_complete for e in young)
        # A second run adds nothing
        assert seed_contest(DEMO_PASSWORD) == 0


def _students() -> list:
    from catalogue.accounts.models import Role, User

    return list(db.session.scalars(select(User).where(User.role_rows.any(role=Role.STUDENT))))


def _leaks(text: str, students) -> list[str]:
    found = []
    for s in students:
        patterns = [rf"\b{re.escape(s.last_name)}\b", re.escape(s.email), re.escape(s.full_name)]
        if s.birth_date:
            born = s.birth_date
            patterns += [born.isoformat(), born.strftime("%d.%m.%Y"), re.escape(ru_date(born))]
        found += [f"{s.email}: {p}" for p in patterns if re.search(p, text)]
    return found


def test_no_full_name_email_or_birth_date_of_a_student_on_public_pages_or_the_collection(app, demo, client):
    with app.app_context():
        students = _students()
        assert len(students) >= 10
        published = db.session.scalars(select(Entry.id).where(Entry.status == Status.PUBLISHED)).all()
        years = db.session.scalars(select(Season.year)).all()
    pages = ["/contest/", *(f"/contest/{y}/" for y in years), *(f"/contest/{y}/results" for y in years)]
    pages += [f"/contest/entries/{entry_id}" for entry_id in published]
    pages += [f"/contest/{demo}/?nomination=&age=&municipality=&page=1"]
    pages += ["/search?q=ракета"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _leaks(response.get_data(as_text=True), students) == [], path
    # The site's search finds entries by what is public, never by a student's surname
    for student in (s for s in students if len(s.last_name) > 3):  # «Ли» matches «лицей» by its stem
        found = client.get(f"/search?q={student.last_name}&type=entry").get_data(as_text=True)
        assert "/contest/entries/" not in found, student.last_name
    # The gallery's htmx fragment too
    fragment = client.get(f"/contest/{demo}/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and _leaks(fragment, students) == []
    # Public names are «Имя Ф.»
    entry_page = client.get(f"/contest/entries/{published[0]}").get_data(as_text=True)
    assert re.search(r"[А-ЯЁ][а-яё]+ [А-ЯЁ]\., \d+ класс", entry_page)
    # The collection: every public document too
    _reader, text = pdf_text(built_collection(app, client, demo).data)
    assert _leaks(text, students) == []


def test_the_collection_pdf_opens_and_has_every_admitted_entry_in_cyrillic(app, demo, client):
    response = built_collection(app, client, demo)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader, text = pdf_text(response.data)
    with app.app_context():
        season = seasons.season_by_year(demo)
        admitted = entries.published_entries(season)
        titles = [e.title for e in admitted]
        nominations = [n.name for n in season.nominations]
    assert len(reader.pages) >= 4
    flat = " ".join(text.split())
    # Cover and contents, in extractable Cyrillic
    assert "Сборник материалов конкурса" in flat and f"СоЗДатель-{demo}" in flat and "Содержание" in flat
    for name in nominations:
        assert name in flat
    for title in titles:
        assert " ".join(title.split()) in flat, title
    # Authors and supervisors as «Имя Ф.», schools and awards
    assert "Виктория Л." in flat and "МБОУ г. Иркутска лицей № 2" in flat
    assert "Руководитель: Марина К." in flat and "Кузнецова Марина" not in flat
    assert "Победитель" in flat
    # Thumbnails are in
    assert sum(len(page.images) for page in reader.pages[2:3]) >= 1
    # A file: the same bytes the second time, and a 304 for a browser that has them
    with client.get(f"/contest/{demo}/collection.pdf") as again:
        assert again.data == response.data
    with client.get(f"/contest/{demo}/collection.pdf", headers={"If-None-Match": response.headers["ETag"]}) as again:
        assert again.status_code == 304


def test_no_collection_without_admitted_entries(app, client, make_user):
    admin = make_user(roles=("admin",), email="admin@example.ru")
    with app.test_request_context():
        make_season(admin)
    assert client.get("/contest/2027/collection.pdf").status_code == 404


# -- small seasons for the organizers' tables and the diplomas ------------------------------------------


@pytest.fixture
def finished(app, make_user):
    """A season with results published: a winner whose title looks like a formula, and a participant."""
    with app.app_context():
        people = loaded(
            {
                "admin": make_user(roles=("admin",), email="admin@example.ru"),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "juror": make_user(roles=("jury",), email="juror@example.ru"),
                "teacher": make_user(
                    roles=("teacher",),
                    email="teacher@example.ru",
                    last_name="Кузнецова",
                    organization=organization(SCHOOL_A),
                ),
                "winner": make_user(
                    roles=("student",),
                    email="winner@example.ru",
                    last_name="Волков",
                    first_name="Артём",
                    organization=organization(SCHOOL_A),
                ),
                "other": make_user(
                    roles=("student",),
                    email="other@example.ru",
                    last_name="Соболева",
                    first_name="Алёна",
                    organization=organization(SCHOOL_B),
                ),
            }
        )
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        seasons.assign_juror(admin, season, season.nominations[0].id, people["juror"].id)
        winner = make_entry(people["winner"], season, "published", people["moderator"], title="=HYPERLINK(\"x\")",
                            supervisor=people["teacher"])  # fmt: skip
        other = make_entry(people["other"], season, "published", people["moderator"], title="Мост через Ангару")
        set_phase(admin, season, "judging")
        from catalogue.contest import judging

        juror = db.session.merge(people["juror"])
        judging.save_review(juror, winner, {c.id: c.max_score for c in season.criteria})
        judging.save_review(juror, other, {c.id: 1 for c in season.criteria})
        set_phase(admin, season, "results")
        # Second of two would be a prize-winner; the administrator makes it a participant
        results.confirm_results(admin, season, {other.id: "participant"})
        results.publish_results(admin, season)
        people["ids"] = {"winner": winner.id, "other": other.id}
    return people


def test_results_as_csv_for_the_organizers_only(app, finished, client, auth):
    auth.login(finished["teacher"])
    assert client.get("/contest/admin/2027/results.csv").status_code == 403
    auth.logout()
    auth.login(finished["admin"])
    response = client.get("/contest/admin/2027/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:5] == ["Номинация", "Возрастная категория", "Место", "Награда", "Итоговый балл"]
    by_title = {row[header.index("Работа")]: row for row in rows[1:]}
    # The formula is text: an apostrophe in front, as OWASP advises
    winner = by_title['\'=HYPERLINK("x")']
    assert winner[header.index("Место")] == "1" and winner[header.index("Награда")] == "Победитель"
    assert winner[header.index("Итоговый балл")] == "20,0"
    # The organizers get full names
    assert winner[header.index("Участник")] == "Волков Артём"
    assert winner[header.index("Руководитель")] == "Кузнецова Анна"
    assert by_title["Мост через Ангару"][header.index("Награда")] == "Участник"


def test_results_as_xlsx_keep_text_as_text(app, finished, client, auth):
    auth.login(finished["admin"])
    response = client.get("/contest/admin/2027/results.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    titles = [row[header.index("Работа")] for row in rows[1:]]
    assert titles == ['=HYPERLINK("x")', "Мост через Ангару"]
    # Stored as a string, never as a formula
    cell = sheet.cell(row=2, column=header.index("Работа") + 1)
    assert cell.data_type == "s"
    assert rows[1][header.index("Итоговый балл")] == 20.0


def test_results_as_xlsx_give_times_in_irkutsk_as_the_csv_does(app, finished, client, auth):
    auth.login(finished["admin"])
    sheet = load_workbook(io.BytesIO(client.get("/contest/admin/2027/results.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index("Отправлена")
    csv_rows = list(csv.reader(io.StringIO(client.get("/contest/admin/2027/results.csv").data.decode("utf-8-sig")),
                               delimiter=";"))  # fmt: skip
    with app.app_context():
        stored = db.session.get(Entry, finished["ids"]["winner"]).submitted_at  # naive UTC
    submitted = rows[1][column]
    # Irkutsk is eight hours ahead of UTC; the spreadsheet shows the wall-clock time, as the CSV does
    assert submitted == (stored + dt.timedelta(hours=8)).replace(microsecond=0)
    assert submitted.strftime("%d.%m.%Y %H:%M") == csv_rows[1][column]
    assert sheet.cell(row=2, column=column + 1).number_format == "DD.MM.YYYY HH:MM"


def test_diplomas_for_the_student_and_supervisor_only(app, finished, client, auth):
    winner_id, other_id = finished["ids"]["winner"], finished["ids"]["other"]
    # A visitor is sent to log in; another student does not see it
    assert client.get(f"/contest/entries/{winner_id}/diploma.pdf").status_code == 302
    auth.login(finished["other"])
    assert client.get(f"/contest/entries/{winner_id}/diploma.pdf").status_code == 404
    # The participant gets a certificate: rendered by a job, never in the request
    waiting = client.get(f"/contest/entries/{other_id}/diploma.pdf")
    assert waiting.mimetype == "text/html" and "Диплом готовится" in waiting.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Job.state).where(Job.key == f"contest.diploma:{other_id}")) == "queued"
    _reader, text = pdf_text(built_diploma(app, client, other_id).data)
    flat = " ".join(text.split())
    assert "СЕРТИФИКАТ" in flat and "подтверждает участие в конкурсе Соболева Алёна" in flat
    assert "с работой «Мост через Ангару»" in flat
    auth.logout()
    for person in ("winner", "teacher", "admin"):
        auth.login(finished[person])
        response = built_diploma(app, client, winner_id)
        assert response.status_code == 200 and response.mimetype == "application/pdf", person
        _reader, text = pdf_text(response.data)
        flat = " ".join(text.split())
        assert "ДИПЛОМ" in flat and "победителя" in flat and "награждается Волков Артём" in flat
        # The same words for a boy and a girl: the site does not ask a participant's gender
        assert "обучающ" not in flat and "8 класс, МБОУ" in flat
        assert "Руководитель: Кузнецова Анна" in flat
        auth.logout()
    # The entry page offers it to the student
    auth.login(finished["winner"])
    assert f"/contest/entries/{winner_id}/diploma.pdf" in client.get(f"/contest/entries/{winner_id}").get_data(
        as_text=True
    )


def test_admin_confirms_and_publishes_results_through_the_pages(app, make_user, client, auth):
    people = {
        "admin": make_user(roles=("admin",), email="admin@example.ru"),
        "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
        "student": make_user(roles=("student",), email="student@example.ru"),
    }
    with app.test_request_context():
        season = make_season(people["admin"])
        make_entry(people["student"], season, "published", people["moderator"], title="Ракета")
        set_phase(people["admin"], season, "results")
    auth.login(people["admin"])
    page = client.get("/contest/admin/2027/results").get_data(as_text=True)
    assert "Ракета" in page and "первому критерию" in page
    token = csrf_token(client, "/contest/admin/2027/results")
    with app.app_context():
        entry_id = db.session.scalar(select(Entry.id))
    saved = {"csrf_token": token, "action": "save", f"award-{entry_id}": "prize"}
    assert client.post("/contest/admin/2027/results", data=saved).status_code == 303
    assert "Призёр" not in app.test_client().get("/contest/2027/results").get_data(as_text=True)
    confirmed = {"csrf_token": token, "action": "confirm"}
    assert client.post("/contest/admin/2027/results", data=confirmed).status_code == 303
    assert client.post("/contest/admin/2027/results/publish", data={"csrf_token": token}).status_code == 303
    public = app.test_client().get("/contest/2027/results").get_data(as_text=True)
    assert "Ракета" in public and "Призёр" in public


def test_every_demo_diploma_and_certificate_is_one_a4_page_even_with_long_names(app, demo):
    from catalogue.contest.documents import diploma_pdf

    with app.test_request_context():
        season = seasons.season_by_year(demo)
        admitted = entries.published_entries(season)
        assert {e.award for e in admitted} >= {"winner", "prize"}
        # One entry gets the longest name, title and school a form lets through
        longest = next(e for e in admitted if e.supervisor and e.organization)
        longest.author.last_name = "Константинопольская-Преображенская"
        longest.author.first_name = "Александра-Анастасия"
        longest.author.middle_name = "Владиславовна"
        longest.supervisor.last_name = "Верхнеудинская-Преображенская"
        longest.title = (
            "Многофункциональная модульная метеостанция для школьного двора с солнечной панелью, "
            "поворотным креплением и защитой от ветра и снега "
        ) * 2 + "ещё"
        longest.title = longest.title[:200]
        longest.organization.name = (
            "Муниципальное автономное общеобразовательное учреждение «Средняя "
            "общеобразовательная школа № 12 с углублённым изучением отдельных предметов "
            "имени Героя Советского Союза Александра Матросова» Усть-Илимского района"
        )
        for entry in admitted:
            reader = PdfReader(io.BytesIO(diploma_pdf(entry)))
            assert len(reader.pages) == 1, (entry.id, entry.award)
            page = reader.pages[0]
            # A4 landscape: 297 × 210 mm
            assert (round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)) == (
                297,
                210,
            )
        text = " ".join(PdfReader(io.BytesIO(diploma_pdf(longest))).pages[0].extract_text().split())
        assert "Константинопольская-Преображенская" in text and "Матросова" in text
        # The same entry as a participant's certificate
        longest.award = "participant"
        certificate = PdfReader(io.BytesIO(diploma_pdf(longest)))
        assert len(certificate.pages) == 1 and "СЕРТИФИКАТ" in certificate.pages[0].extract_text()
        db.session.rollback()


def test_the_collection_contents_shows_page_numbers_apart_from_the_counts(app, demo, client):
    reader, _text = pdf_text(built_collection(app, client, demo).data)
    contents = reader.pages[1].extract_text(extraction_mode="layout")
    assert "Содержание" in contents
    lines = [" ".join(line.split()) for line in contents.splitlines() if "·" in line]
    assert lines
    for line in lines:
        # «Номинация · 5–8 классы (3)   4»: the count in brackets, then the page on its own
        assert re.fullmatch(r".+ \(\d+\) \d+", line), line


def test_unranked_entries_come_after_the_ranked_ones_on_every_database(app, make_user, client):
    with app.app_context():
        people = loaded(
            {
                "admin": make_user(roles=("admin",), email="admin@example.ru"),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "juror": make_user(roles=("jury",), email="juror@example.ru"),
                **{
                    name: make_user(roles=("student",), email=f"{name}@example.ru", organization=organization(SCHOOL_A))
                    for name in ("first", "second", "unscored")
                },
            }
        )
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        seasons.assign_juror(admin, season, season.nominations[0].id, people["juror"].id)
        # «Аэростат» comes first by title, but no juror scored it: it has no place
        unscored = make_entry(people["unscored"], season, "published", people["moderator"], title="Аэростат")
        first = make_entry(people["first"], season, "published", people["moderator"], title="Мост через Ангару")
        second = make_entry(people["second"], season, "published", people["moderator"], title="Ледокол")
        set_phase(admin, season, "judging")
        from catalogue.contest import judging

        juror = db.session.merge(people["juror"])
        judging.save_review(juror, first, {c.id: c.max_score for c in season.criteria})
        judging.save_review(juror, second, {c.id: 1 for c in season.criteria})
        set_phase(admin, season, "results")
        results.confirm_results(admin, season, {})
        assert (first.rank, second.rank, unscored.rank) == (1, 2, None)
        assert [e.title for e in entries.published_entries(season)] == ["Мост через Ангару", "Ледокол", "Аэростат"]
        results.publish_results(admin, season)
    # The collection lists them so too
    _reader, text = pdf_text(built_collection(app, client, 2027).data)
    flat = " ".join(text.split())
    assert flat.index("Мост через Ангару") < flat.index("Ледокол") < flat.index("Аэростат")

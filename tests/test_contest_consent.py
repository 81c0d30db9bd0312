"""Nobody acts in a child's name without checks: teachers are confirmed before they see or act for students,
students accept their supervisors (and entries a teacher prepared for them), and under 14 the parent confirms
the consent themselves, by a one-time link or on a signed paper form a moderator checks.
"""

import email
import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from catalogue.accounts import services as accounts
from catalogue.accounts import supervision
from catalogue.accounts.models import Role, Supervision, User
from catalogue.contest import entries, parental, seasons
from catalogue.contest.models import Entry, ParentalConsent
from catalogue.extensions import db
from catalogue.mail import mail_folder
from catalogue.permissions import Conflict, InvalidInput, NotFound
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Notification, Status
from tests.contest_support import (
    SCHOOL_A,
    SCHOOL_B,
    consent,
    fetch_status,
    loaded,
    make_entry,
    make_season,
    organization,
    stored_model,
    years_ago,
)
from tests.helpers import DEFAULT_PASSWORD, csrf_token


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        school_a, school_b = organization(SCHOOL_A), organization(SCHOOL_B)
        made = {
            "admin": make_user(roles=("admin",), email="admin@example.ru"),
            "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
            # Made by an administrator: confirmed
            "teacher": make_user(
                roles=("teacher",), email="teacher@example.ru", last_name="Кузнецова", organization=school_a
            ),
            "teacher_b": make_user(roles=("teacher",), email="teacher-b@example.ru", organization=school_b),
            # 12 years old: a parent consents for him
            "child": make_user(
                roles=("student",),
                email="child@example.ru",
                last_name="Волков",
                first_name="Артём",
                middle_name="Дмитриевич",
                grade=7,
                birth_date=years_ago(12),
                organization=school_a,
            ),
            "senior": make_user(
                roles=("student",), email="senior@example.ru", grade=10, birth_date=years_ago(16), organization=school_a
            ),
        }
        # Registered by themselves on the site: a «teacher» of school A nobody has confirmed
        made["stranger"] = accounts.register_user(
            accounts.Registration(
                role=Role.TEACHER,
                email="stranger@example.ru",
                password=DEFAULT_PASSWORD,
                last_name="Незнакомцев",
                first_name="Олег",
                middle_name="",
                municipality_id=school_a.municipality_id,
                organization_id=school_a.id,
            )
        )
        return loaded(made)


@pytest.fixture
def year(app, people) -> int:
    with app.test_request_context():
        return make_season(people["admin"]).year


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def merged(people, *names):
    return [db.session.merge(people[n]) for n in names]


def letters_to(app, address: str) -> list[email.message.EmailMessage]:
    with app.app_context():
        folder = mail_folder()
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def entry_fields(client, year: int, **extra) -> dict:
    token = csrf_token(client, f"/contest/{year}/submit")
    with client.application.app_context():
        season = seasons.season_by_year(year)
        category = next(c for c in season.age_categories if c.includes_grade(7))
        data = {
            "csrf_token": token,
            "nomination_id": season.nominations[0].id,
            "age_category_id": category.id,
            "title": "Модель ледокола «Ангара»",
            "description": "Ледокол, который работал на Байкале.",
            "consent_processing": "y",
            "consent_publication": "y",
            "consent_giver": "parent",
            "consent_giver_name": "Волкова Ирина Сергеевна",
        }
    data.update(extra)
    return data


def png_scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (250, 250, 245)).save(buffer, format="PNG")
    return buffer.getvalue()


# -- teachers are confirmed ---------------------------------------------------------------------------


def test_a_self_registered_teacher_sees_no_students_and_cannot_enter_for_them(app, people, year, client, auth):
    child_id = people["child"].id
    with app.app_context():
        stranger = db.session.get(User, people["stranger"].id)
        assert stranger.verified_at is None and not stranger.is_verified_teacher
    auth.login(people["stranger"])
    # The form for a student's entry refuses, saying why and who can confirm
    page = client.get(f"/contest/{year}/submit")
    text = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "не подтверждена" in text and "подтверждённый педагог вашей организации" in text
    assert "Волков" not in text
    # No list of students anywhere
    students = client.get("/account/students").get_data(as_text=True)
    assert "не подтверждена" in students and "Волков" not in students
    assert "Волков" not in client.get(f"/contest/supervisors?student_id={child_id}").get_data(as_text=True)
    # Posting the form anyway makes nothing in the child's name
    with app.app_context():
        season = seasons.season_by_year(year)
        data = {
            "csrf_token": csrf_token(client, "/contest/mine"),
            "student_id": child_id,
            "nomination_id": season.nominations[0].id,
            "age_category_id": season.age_categories[0].id,
            "title": "Чужая работа",
            "description": "Не от ребёнка.",
        }
    assert client.post(f"/contest/{year}/submit", data=data).status_code == 403
    # Nor through the service, with a «parent consent» typed by the stranger
    with app.test_request_context():
        stranger, child = merged(people, "stranger", "child")
        season = seasons.season_by_year(year)
        data = entries.EntryData(season.nominations[0].id, season.age_categories[0].id, "Чужая работа", "Текст")
        files = entries.EntryFiles(model_key=stored_model(stranger).key)
        with pytest.raises(InvalidInput, match="не подтверждена") as refused:
            entries.create_entry(stranger, season, data, files, consent(), student_id=child.id)
        assert refused.value.field == "student_id"
        assert db.session.scalar(select(Entry.id)) is None
        # ... and asking to supervise the child is refused too
        with pytest.raises(InvalidInput, match="не подтверждена"):
            supervision.request_supervision(stranger, child)


def test_an_unconfirmed_teacher_cannot_be_chosen_as_supervisor(app, people, ctx, year):
    child, stranger = merged(people, "child", "stranger")
    assert [t.email for t in entries.supervisor_options(child, "")] == ["teacher@example.ru"]
    with pytest.raises(InvalidInput, match="не подтверждён") as refused:
        make_entry(people["child"], seasons.season_by_year(year), supervisor=stranger)
    assert refused.value.field == "supervisor_id"


def test_a_confirmed_teacher_of_the_same_school_confirms_a_colleague(app, people, client, auth):
    stranger_id = people["stranger"].id
    # A confirmed teacher of another school neither sees nor confirms them
    auth.login(people["teacher_b"])
    assert "Незнакомцев" not in client.get("/account/teachers").get_data(as_text=True)
    token = csrf_token(client, "/account/teachers")
    assert client.post(f"/account/teachers/{stranger_id}/verify", data={"csrf_token": token}).status_code == 403
    auth.logout()
    # ... nor does the unconfirmed teacher themselves
    auth.login(people["stranger"])
    assert client.get("/account/teachers").status_code == 403
    auth.logout()
    # A confirmed teacher of the same school does, with a CSRF token
    auth.login(people["teacher"])
    assert "Незнакомцев" in client.get("/account/teachers").get_data(as_text=True)
    assert client.post(f"/account/teachers/{stranger_id}/verify").status_code == 400
    token = csrf_token(client, "/account/teachers")
    assert client.post(f"/account/teachers/{stranger_id}/verify", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        stranger = db.session.get(User, stranger_id)
        assert stranger.verified_at is not None and stranger.verified_by_id == people["teacher"].id
        notice = db.session.scalar(select(Notification).where(Notification.user_id == stranger_id))
        assert "подтверждена" in notice.text
    # The letter after the one with the login link sent at registration
    (letter,) = [m for m in letters_to(app, "stranger@example.ru") if "подтверждена" in m["Subject"]]
    assert "Теперь вы можете подавать конкурсные работы" in letter.get_content()
    # Now the students of their own school are listed, by full name
    auth.logout()
    auth.login(people["stranger"])
    students = client.get("/account/students").get_data(as_text=True)
    assert "Волков Артём Дмитриевич" in students


def test_administrators_confirm_teachers_and_make_confirmed_ones(app, people, client, auth, runner):
    stranger_id = people["stranger"].id
    auth.login(people["admin"])
    assert "не подтверждён" in client.get("/admin/users/?role=teacher").get_data(as_text=True)
    token = csrf_token(client, f"/admin/users/{stranger_id}")
    response = client.post(f"/account/teachers/{stranger_id}/verify", data={"csrf_token": token, "back": "admin"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/users/{stranger_id}")
    result = runner.invoke(
        args=["create-user", "--email", "new@example.ru", "--last-name", "Новикова", "--first-name", "Ольга",
              "--role", "teacher"],
        input=f"{DEFAULT_PASSWORD}\n{DEFAULT_PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(User, stranger_id).verified_at is not None
        made = db.session.scalar(select(User).where(User.email == "new@example.ru"))
        assert made.is_verified_teacher


# -- students accept supervisors ----------------------------------------------------------------------


def test_a_teachers_entry_for_a_student_waits_for_the_student_and_blocks_nothing(app, people, ctx, year):
    season = seasons.season_by_year(year)
    teacher, child = merged(people, "teacher", "child")
    prepared = make_entry(people["child"], season, actor=people["teacher"], title="От педагога")
    assert prepared.accepted_at is None and prepared.supervisor_id == teacher.id
    # It cannot be sent before the student takes it
    with pytest.raises(Conflict, match="участник должен принять"):
        workflow.transition(teacher, prepared, "submit")
    # The child's own entry in the same nomination is not blocked by it
    own = make_entry(people["child"], season, title="Моя модель")
    assert own.accepted_at is not None
    # Taking the prepared one now would exceed the season's limit
    with pytest.raises(InvalidInput, match="уже есть работа"):
        entries.answer_proposal(child, prepared, accept=True)
    # Declining deletes it, and the teacher is told
    prepared_id = prepared.id
    entries.answer_proposal(child, prepared, accept=False)
    assert db.session.get(Entry, prepared_id) is None
    assert db.session.scalar(select(Notification.text).where(Notification.user_id == teacher.id)).startswith(
        "Волков Артём"
    )
    # Another school's teacher can prepare nothing for this child
    with pytest.raises(InvalidInput, match="своей организации"):
        make_entry(people["child"], season, actor=people["teacher_b"], nomination=1)


def test_the_student_takes_a_prepared_entry_and_with_it_the_supervisor(app, people, year, client, auth):
    with app.test_request_context():
        entry_id = make_entry(people["child"], seasons.season_by_year(year), actor=people["teacher"]).id
    auth.login(people["child"])
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert "Принять работу и руководство" in page
    token = csrf_token(client, f"/contest/entries/{entry_id}")
    assert client.post(f"/contest/entries/{entry_id}/proposal/accept").status_code == 400
    response = client.post(f"/contest/entries/{entry_id}/proposal/accept", data={"csrf_token": token})
    assert response.status_code == 303
    with app.test_request_context():
        entry = db.session.get(Entry, entry_id)
        assert entry.accepted_at is not None
        assert supervision.supervises(people["teacher"].id, people["child"].id)
        workflow.transition(db.session.merge(people["teacher"]), entry, "submit")
        assert entry.status == Status.SUBMITTED


def test_a_supervisor_sees_the_students_entries_only_while_the_student_accepts(app, people, year, client, auth):
    with app.test_request_context():
        season = seasons.season_by_year(year)
        entry_id = make_entry(people["senior"], season, supervisor=people["teacher"], title="Мост").id
    # The student chose her supervisor: the teacher sees and edits the entry
    auth.login(people["teacher"])
    assert client.get(f"/contest/entries/{entry_id}").status_code == 200
    assert "Мост" in client.get("/contest/mine").get_data(as_text=True)
    auth.logout()
    # The student ends the supervision on her account page
    auth.login(people["senior"])
    with app.app_context():
        supervision_id = db.session.scalar(select(Supervision.id))
    page = client.get("/account/").get_data(as_text=True)
    assert "Кузнецова" in page and "Завершить руководство" in page
    token = csrf_token(client, "/account/")
    client.post(f"/account/supervision/{supervision_id}/end", data={"csrf_token": token})
    auth.logout()
    # The teacher no longer sees, edits or sends it
    auth.login(people["teacher"])
    assert client.get(f"/contest/entries/{entry_id}").status_code == 404
    assert client.get(f"/contest/entries/{entry_id}/edit").status_code == 404
    assert "Мост" not in client.get("/contest/mine").get_data(as_text=True)
    token = csrf_token(client, "/contest/mine")
    data = {"csrf_token": token, "expected_status": "draft"}
    assert client.post(f"/workflow/entry/{entry_id}/submit", data=data).status_code in (403, 404)
    # Asking again is a request the student answers; until then nothing opens
    students = client.get("/account/students").get_data(as_text=True)
    assert "Предложить руководство" in students
    client.post(f"/account/students/{people['senior'].id}/supervise", data={"csrf_token": token})
    assert client.get(f"/contest/entries/{entry_id}").status_code == 404
    auth.logout()
    auth.login(people["senior"])
    assert "предлагает быть руководителем" in client.get("/account/").get_data(as_text=True)
    token = csrf_token(client, "/account/")
    client.post(f"/account/supervision/{supervision_id}/accept", data={"csrf_token": token})
    auth.logout()
    auth.login(people["teacher"])
    assert client.get(f"/contest/entries/{entry_id}").status_code == 200


def test_a_student_answers_only_their_own_supervision_requests(app, people, ctx):
    teacher, child, senior = merged(people, "teacher", "child", "senior")
    request = supervision.request_supervision(teacher, child)
    with pytest.raises(NotFound):
        supervision.answer(senior, request.id, accept=True)
    supervision.answer(child, request.id, accept=False)
    with pytest.raises(Conflict):
        supervision.answer(child, request.id, accept=True)
    assert not supervision.supervises(teacher.id, child.id)


# -- parental consent ------------------------------------------------------------------------------------


def test_the_parent_confirms_by_a_one_time_link(app, people, year, client, auth):
    auth.login(people["child"])
    data = entry_fields(client, year, consent_parent_email="volkova@example.ru")
    with app.test_request_context():
        data["model-pending"] = stored_model(people["child"]).key  # uploaded earlier, kept with the form
    response = client.post(f"/contest/{year}/submit", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        entry_id = entry.id
        assert not entry.consent_processing
    # The entry can be sent now ...
    token = csrf_token(client, f"/contest/entries/{entry_id}")
    sent = client.post(f"/workflow/entry/{entry_id}/submit", data={"csrf_token": token, "expected_status": "draft"})
    assert sent.status_code == 303
    auth.logout()
    # ... but not admitted until the parent confirms
    auth.login(people["moderator"])
    review = client.get(f"/moderation/entry/{entry_id}").get_data(as_text=True)
    assert "Допустить к конкурсу" not in review and "ждёт подтверждения родителя" in review
    token = csrf_token(client, f"/moderation/entry/{entry_id}")
    refused = client.post(
        f"/workflow/entry/{entry_id}/publish", data={"csrf_token": token, "expected_status": "submitted"}
    )
    assert refused.status_code == 409 and "не ответил" in refused.get_data(as_text=True)
    auth.logout()
    # The parent's letter carries the link
    (letter,) = letters_to(app, "volkova@example.ru")
    link = re.search(r"http://localhost(/contest/consent/\S+)", letter.get_content()).group(1)
    parent = app.test_client()
    page = parent.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "152-ФЗ" in text and parental.TEXT_VERSION in text
    assert "Артём В." in text and "Дмитриевич" not in text
    # ... and links the privacy policy, as every consent does
    assert "политика обработки персональных данных</a>" in text and 'href="/privacy"' in text
    # The token stays out of other sites' logs
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # A POST without the CSRF token is refused
    assert parent.post(link, data={"decision": "confirm"}).status_code == 400
    token = csrf_token(parent, link)
    confirmed = parent.post(link, data={"csrf_token": token, "decision": "confirm"}, environ_base={
        "REMOTE_ADDR": "203.0.113.9"})  # fmt: skip
    assert confirmed.status_code == 200 and "Согласие подтверждено" in confirmed.get_data(as_text=True)
    # The link works once
    assert parent.get(link).status_code == 410
    assert parent.post(link, data={"csrf_token": token, "decision": "decline"}).status_code == 410
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        assert entry.consents_complete
        record = db.session.scalar(select(ParentalConsent))
        assert (record.status, record.parent_name, record.parent_email, record.decided_address) == (
            "confirmed",
            "Волкова Ирина Сергеевна",
            "volkova@example.ru",
            "203.0.113.9",
        )
    # The moderator sees who, when, from where and which text, and admits the entry
    auth.login(people["moderator"])
    review = client.get(f"/moderation/entry/{entry_id}").get_data(as_text=True)
    assert "volkova@example.ru" in review and "203.0.113.9" in review and parental.TEXT_VERSION in review
    token = csrf_token(client, f"/moderation/entry/{entry_id}")
    admitted = client.post(
        f"/workflow/entry/{entry_id}/publish", data={"csrf_token": token, "expected_status": "submitted"}
    )
    assert admitted.status_code == 303


def test_forged_declined_or_replaced_links_give_no_consent(app, people, ctx, year):
    season = seasons.season_by_year(year)
    entry = make_entry(people["child"], season, with_consent=False)
    child = db.session.merge(people["child"])
    entries.give_consent(child, entry, consent(email="mama@example.ru"))
    first = parental.make_token(parental.open_request(entry))
    with pytest.raises(InvalidInput, match="недействительна"):
        parental.decide(first[:-3] + "abc", True, "198.51.100.1")
    # A new request (another address) replaces the old link
    entries.give_consent(child, entry, consent(email="papa@example.ru"))
    with pytest.raises(InvalidInput, match="заменена"):
        parental.decide(first, True, "198.51.100.1")
    second = parental.make_token(parental.open_request(entry))
    parental.decide(second, False, "198.51.100.2")
    assert not entry.consent_processing and not entry.consent_publication
    assert parental.current_request(entry).status == "declined"


def test_nobody_types_their_own_address_as_the_parents(app, people, ctx, year):
    season = seasons.season_by_year(year)
    entry = make_entry(people["child"], season, with_consent=False)
    child = db.session.merge(people["child"])
    for address in ("child@example.ru", "CHILD@example.ru ", "не адрес"):
        with pytest.raises(InvalidInput) as refused:
            entries.give_consent(child, entry, consent(email=address))
        assert refused.value.field == "consent_parent_email"
    # A confirmed teacher preparing an entry cannot confirm for the parent with their own address either
    prepared = make_entry(people["child"], season, actor=people["teacher"], nomination=1, with_consent=False)
    with pytest.raises(InvalidInput, match="ваш"):
        entries.give_consent(db.session.merge(people["teacher"]), prepared, consent(email="teacher@example.ru"))
    assert db.session.scalar(select(ParentalConsent.id)) is None


def test_a_family_without_email_signs_the_paper_form_and_a_moderator_checks_the_scan(app, people, year, client, auth):
    with app.test_request_context():
        season = seasons.season_by_year(year)
        entry = make_entry(people["child"], season, with_consent=False)
        entries.give_consent(db.session.merge(people["child"]), entry, consent(paper=True, email=""))
        entry_id = entry.id
        workflow.transition(db.session.merge(people["child"]), entry, "submit")
    # The form is the authors' only
    assert client.get(f"/contest/entries/{entry_id}/consent-form.pdf").status_code in (302, 401)
    auth.login(people["teacher_b"])
    assert client.get(f"/contest/entries/{entry_id}/consent-form.pdf").status_code == 404
    auth.logout()
    auth.login(people["child"])
    pdf = client.get(f"/contest/entries/{entry_id}/consent-form.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Волков Артём Дмитриевич" in text and "Иванова Мария Петровна" in text and parental.TEXT_VERSION in text
    # The signed scan goes through the upload validation: a renamed text file is refused
    token = csrf_token(client, f"/contest/entries/{entry_id}")
    bad = {"csrf_token": token, "scan": (io.BytesIO(b"not a scan"), "scan.png")}
    client.post(f"/contest/entries/{entry_id}/consent/scan", data=bad, content_type="multipart/form-data")
    with app.app_context():
        assert db.session.scalar(select(ParentalConsent.status)) == "pending"
    good = {"csrf_token": token, "scan": (io.BytesIO(png_scan()), "скан.png")}
    client.post(f"/contest/entries/{entry_id}/consent/scan", data=good, content_type="multipart/form-data")
    with app.app_context():
        record = db.session.scalar(select(ParentalConsent))
        assert record.status == "uploaded"
        scan_url = f"/files/{record.scan_file.key}/{record.scan_file.original_name}"
    auth.logout()
    # Nobody but the authors and moderators reads the scan
    assert fetch_status(client, scan_url) == 404
    auth.login(people["teacher_b"])
    assert fetch_status(client, scan_url) == 404
    auth.logout()
    auth.login(people["moderator"])
    assert fetch_status(client, scan_url) == 200
    review = client.get(f"/moderation/entry/{entry_id}").get_data(as_text=True)
    assert "бумажный бланк" in review and "Бланк согласия проверен" in review
    token = csrf_token(client, f"/moderation/entry/{entry_id}")
    # A rejection needs a comment; with one the family is told
    client.post(f"/contest/entries/{entry_id}/consent/check/reject", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(ParentalConsent.status)) == "uploaded"
    client.post(f"/contest/entries/{entry_id}/consent/check/accept", data={"csrf_token": token})
    with app.app_context():
        record = db.session.scalar(select(ParentalConsent))
        assert record.status == "confirmed" and record.checked_by_id == people["moderator"].id
        assert db.session.get(Entry, entry_id).consents_complete
    admitted = client.post(
        f"/workflow/entry/{entry_id}/publish", data={"csrf_token": token, "expected_status": "submitted"}
    )
    assert admitted.status_code == 303
    # Published, the entry is public; the scan is not
    auth.logout()
    assert client.get(f"/contest/entries/{entry_id}").status_code == 200
    assert fetch_status(client, scan_url) == 404


def test_only_moderators_check_a_scan(app, people, year, client, auth):
    with app.test_request_context():
        entry = make_entry(people["child"], seasons.season_by_year(year), with_consent=False)
        entries.give_consent(db.session.merge(people["child"]), entry, consent(paper=True, email=""))
        entry_id = entry.id
        with pytest.raises(Conflict, match="не ждёт"):
            parental.check_scan(db.session.merge(people["moderator"]), entry, True)
    auth.login(people["child"])
    token = csrf_token(client, f"/contest/entries/{entry_id}")
    assert (
        client.post(f"/contest/entries/{entry_id}/consent/check/accept", data={"csrf_token": token}).status_code == 403
    )

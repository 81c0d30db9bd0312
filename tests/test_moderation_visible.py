"""Moderation you can see, and no double files: pictures as thumbnails on the review page, notifications that
are marked read when opened, letters that greet their reader, and one photo attached once however often it is
picked."""

import email
import email.policy
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from catalogue.extensions import db
from catalogue.mail import mail_folder
from catalogue.media import services as media
from catalogue.media.attachments import attach_files, attachments_of
from catalogue.media.models import StoredFile
from catalogue.media.validation import validate_upload
from catalogue.projects import services as projects
from catalogue.projects.models import Project, ProjectReport
from catalogue.workflow import registry
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Notification
from tests.contest_support import SCHOOL_A, fetch_status, loaded, make_entry, make_season, organization
from tests.factories import make_project, report_data
from tests.helpers import DEFAULT_PASSWORD, csrf_token, loaded_width


def photo(colour=(10, 120, 200), size=(64, 48)) -> bytes:
    """A real JPEG: a class photo as far as the site can tell."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        return loaded(
            {
                "teacher": make_user(
                    roles=("teacher",), email="teacher@example.ru", first_name="Ирина", middle_name="Сергеевна"
                ),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "stranger": make_user(roles=("teacher",), email="stranger@example.ru"),
            }
        )


@pytest.fixture
def project_id(app, people) -> int:
    with app.test_request_context():
        return make_project(people["teacher"], "published", moderator=people["moderator"], title="Юный энергетик").id


def report_form(client, project_id: int, **overrides) -> dict:
    data = {
        "csrf_token": csrf_token(client, f"/projects/{project_id}/reports/new"),
        "class_name": "7 «А»",
        "grade": "7",
        "started_on": "2026-02-01",
        "finished_on": "2026-02-20",
        "participants": "22",
        "body": "Собрали шесть моделей.",
        "results": "Двое решили поступать в энергетический колледж.",
    }
    data.update(overrides)
    return data


def only_report(app) -> ProjectReport:
    with app.app_context():
        return db.session.scalar(select(ProjectReport))


def photo_keys(app, report_id: int) -> list[str]:
    with app.app_context():
        return [f.key for f in attachments_of("report", report_id)]


def letters_to(app, address: str) -> list[email.message.EmailMessage]:
    with app.app_context():
        folder = mail_folder()
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def submitted_report_with_photos(app, people, project_id: int, *pictures: bytes) -> int:
    """The teacher's report with ``pictures``, sent for review, through the services."""
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        keys = [
            media.store_upload(teacher, validate_upload("image", f"класс-{n}.jpg", p)).key
            for n, p in enumerate(pictures)
        ]
        report = projects.create_report(teacher, db.session.get(Project, project_id), report_data(attach=keys))
        workflow.transition(teacher, report, "submit")
        return report.id


# -- §6: thumbnails on the review page ---------------------------------------------------------------


def image_sources(page: str) -> list[str]:
    """The addresses of the item's pictures shown on a review page (not the model's rendered thumbnail)."""
    return re.findall(r'<img src="(/files/[^"]+)" alt="(?:Фотография|Изображение) \d+', page)


def test_moderator_sees_a_reports_photos_as_thumbnails_that_only_the_items_people_can_open(
    app, client, auth, people, project_id
):
    report_id = submitted_report_with_photos(app, people, project_id, photo((200, 30, 30)), photo((30, 200, 30)))
    # The moderator opens the report's review page: both photos are pictures, not just file names
    auth.login(people["moderator"])
    page = client.get(f"/moderation/report/{report_id}").get_data(as_text=True)
    sources = image_sources(page)
    assert len(sources) == 2
    assert "Фотографии (2)" in page
    for source in sources:
        assert fetch_status(client, source) == 200
    # The report is not published: a stranger gets neither the page nor the photos
    auth.logout()
    auth.login(people["stranger"])
    assert client.get(f"/moderation/report/{report_id}").status_code == 404
    assert {fetch_status(client, source) for source in sources} == {404}
    # Its author sees the same thumbnails on the review page
    auth.logout()
    auth.login(people["teacher"])
    assert image_sources(client.get(f"/moderation/report/{report_id}").get_data(as_text=True)) == sources


def test_moderator_sees_an_entrys_images_as_thumbnails(app, client, auth, make_user):
    with app.app_context():
        made = loaded(
            {
                "admin": make_user(roles=("admin",), email="admin@example.ru"),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "student": make_user(
                    roles=("student",), email="student@example.ru", grade=9, organization=organization(SCHOOL_A)
                ),
            }
        )
    with app.test_request_context():
        season = make_season(made["admin"])
        entry = make_entry(made["student"], season)
        student = db.session.merge(made["student"])
        keys = [media.store_upload(student, validate_upload("image", "эскиз.jpg", photo())).key]
        attach_files(student, "entry", entry.id, add=keys)
        db.session.commit()
        workflow.transition(student, entry, "submit")
        entry_id = entry.id
    auth.login(made["moderator"])
    page = client.get(f"/moderation/entry/{entry_id}").get_data(as_text=True)
    assert "Изображения к работе (1)" in page
    (source,) = image_sources(page)
    assert fetch_status(client, source) == 200


# -- §6: notifications read when opened --------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_leads_to_its_page(app, client, auth, people, project_id):
    report_id = submitted_report_with_photos(app, people, project_id, photo())
    auth.login(people["moderator"])
    token = csrf_token(client, f"/moderation/report/{report_id}")
    assert client.post(f"/workflow/report/{report_id}/publish", data={"csrf_token": token}).status_code == 303
    auth.logout()
    # The teacher has two new notifications (her project, then her report, published); their links go
    # through the site
    auth.login(people["teacher"])
    page = client.get("/account/notifications").get_data(as_text=True)
    assert page.count("новое</span>") == 2
    link = re.findall(r'href="(/account/notifications/\d+)"', page)[0]  # newest first: the report's
    response = client.get(link)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/projects/reports/{report_id}"
    # ... and once opened it is read, the other one not
    page = client.get("/account/notifications").get_data(as_text=True)
    assert page.count("новое</span>") == 1
    with app.app_context():
        unread = select(Notification.url).where(Notification.read_at.is_(None))
        assert list(db.session.scalars(unread)) == [f"/projects/{project_id}-iunyi-energetik"]
    # Someone else's notification is not there for anyone else
    auth.logout()
    auth.login(people["stranger"])
    assert client.get(link).status_code == 404


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_a_notification_leads_only_to_a_page_of_this_site(app, client, auth, people, url):
    with app.app_context():
        workflow.notify(db.session.merge(people["teacher"]), "Проверьте материал.", url)
        db.session.commit()
        notification_id = db.session.scalar(select(Notification.id))
    auth.login(people["teacher"])
    response = client.get(f"/account/notifications/{notification_id}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/notifications"
    with app.app_context():
        assert db.session.get(Notification, notification_id).read_at is not None


# -- §6: letters greet the person, with a subject per event ------------------------------------------


def test_letters_greet_by_first_name_and_patronymic_and_say_what_happened(app, client, auth, people, project_id):
    report_id = submitted_report_with_photos(app, people, project_id, photo())
    with app.test_request_context():
        report = db.session.get(ProjectReport, report_id)
        title = registry.of(report).title(report)
        workflow.transition(db.session.merge(people["moderator"]), report, "request_changes", "Уберите лица.")
        workflow.transition(db.session.merge(people["teacher"]), report, "submit")
        workflow.transition(db.session.merge(people["moderator"]), report, "publish")
    letters = letters_to(app, "teacher@example.ru")
    subjects = [m["Subject"] for m in letters]
    site = app.config["SITE_NAME"]
    assert f"{site}: «{title}»: модератор просит внести исправления" in subjects
    assert f"{site}: «{title}» опубликовано" in subjects
    for letter in letters:
        assert letter.get_content().startswith("Здравствуйте, Ирина Сергеевна!\n\n")
    # Without a patronymic, by first name
    with app.test_request_context():
        workflow.send_letters([(db.session.merge(people["stranger"]), "Текст.", "/")], "проверка")
        db.session.commit()
    (letter,) = letters_to(app, "stranger@example.ru")
    assert letter.get_content().startswith("Здравствуйте, Анна!\n\nТекст.")
    assert letter["Subject"] == f"{site}: проверка"


# -- §9: no double files -------------------------------------------------------------------------------


def test_the_same_photo_is_attached_to_a_report_once_whatever_path_brings_it(app, people, project_id):
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])

        def upload(data: bytes) -> str:
            return media.store_upload(teacher, validate_upload("image", "класс.jpg", data)).key

        # Two uploads of one photo in one save: one is attached, the other deleted
        report = projects.create_report(
            teacher, db.session.get(Project, project_id), report_data(attach=[upload(photo()), upload(photo())])
        )
        assert len(attachments_of("report", report.id)) == 1
        # Adding it again on an edit changes nothing; another photo is added
        projects.update_report(teacher, report, report_data(attach=[upload(photo()), upload(photo((0, 0, 0)))]))
        assert len(attachments_of("report", report.id)) == 2
        # No leftover pending copies either
        pending = select(func.count()).select_from(StoredFile).where(StoredFile.owner_type.is_(None))
        assert db.session.scalar(pending) == 0


def test_a_photo_kept_after_a_failed_form_shows_as_kept_and_is_not_attached_twice(
    app, client, auth, people, project_id
):
    auth.login(people["teacher"])
    url = f"/projects/{project_id}/reports/new"
    # The teacher forgets the results but attaches a photo: the form comes back with the photo kept
    response = client.post(
        url, data={**report_form(client, project_id, results=""), "photos": (io.BytesIO(photo()), "класс.jpg")}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Уже загружено и сохранится с формой — выбирать эти файлы заново не нужно" in page
    assert "класс.jpg" in page and "сохранено" in page
    (kept,) = re.findall(r'name="photos-pending" value="([^"]+)"', page)
    assert re.search(r'<img src="/files/' + kept, page), "the kept photo is shown as a picture"
    assert f'name="photos-remove" value="{kept}"' in page
    # Not seeing it in the file input, she picks it again, and forgets the results again: still one photo kept
    again = {"photos-pending": kept, "photos": (io.BytesIO(photo()), "класс.jpg")}
    page = client.post(url, data={**report_form(client, project_id, results=""), **again}).get_data(as_text=True)
    assert re.findall(r'name="photos-pending" value="([^"]+)"', page) == [kept]
    # She picks the same photo again and saves: the report has it once
    response = client.post(
        url,
        data={**report_form(client, project_id), "photos-pending": kept, "photos": (io.BytesIO(photo()), "класс.jpg")},
    )
    assert response.status_code == 303
    report = only_report(app)
    assert photo_keys(app, report.id) == [kept]
    page = client.get(f"/projects/reports/{report.id}").get_data(as_text=True)
    assert len(re.findall(r'<img src="/files/', page)) == 1


def test_a_kept_photo_can_be_removed_before_saving(app, client, auth, people, project_id):
    auth.login(people["teacher"])
    url = f"/projects/{project_id}/reports/new"
    page = client.post(
        url, data={**report_form(client, project_id, results=""), "photos": (io.BytesIO(photo()), "класс.jpg")}
    ).get_data(as_text=True)
    (kept,) = re.findall(r'name="photos-pending" value="([^"]+)"', page)
    response = client.post(url, data={**report_form(client, project_id), "photos-pending": kept, "photos-remove": kept})
    assert response.status_code == 303
    assert photo_keys(app, only_report(app).id) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


@pytest.mark.browser
def test_in_a_browser_a_kept_photo_is_shown_once_and_can_be_removed(app, page, people, project_id, tmp_path):
    picture = tmp_path / "класс.jpg"
    picture.write_bytes(photo())
    other = tmp_path / "экскурсия.jpg"
    other.write_bytes(photo((0, 0, 0)))
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill("teacher@example.ru")
    page.get_by_label("Пароль").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    page.goto(f"/projects/{project_id}/reports/new")
    # The teacher fills the report but the results, and attaches two photos
    page.get_by_label("Класс или группа").fill("7 «А»")
    page.get_by_label("Параллель").select_option("7")
    page.get_by_label("Начало").fill("2026-02-01")
    page.get_by_label("Окончание").fill("2026-02-20")
    page.get_by_label("Участников").fill("22")
    page.get_by_label("Что сделали").fill("Собрали шесть моделей.")
    page.get_by_label("Фотографии").set_input_files([picture, other])
    page.get_by_role("button", name="Сохранить черновик").click()
    # The form comes back: both photos are shown as kept, as pictures
    kept = page.get_by_role("list", name="Уже загружено и сохранится с формой")
    expect(kept.get_by_role("listitem")).to_have_count(2)
    for image in kept.locator("img").all():
        assert loaded_width(image) > 0
    # She removes the second, picks the first again, writes the results and saves
    kept.get_by_role("listitem").filter(has_text="экскурсия.jpg").get_by_label("Удалить").check()
    page.get_by_label("Фотографии").set_input_files(picture)
    page.get_by_label("Результаты").fill("Двое решили поступать в энергетический колледж.")
    page.get_by_role("button", name="Сохранить черновик").click()
    # The report has the one photo, once
    expect(page.get_by_role("heading", name="Фотографии")).to_be_visible()
    expect(page.locator(".photos img")).to_have_count(1)

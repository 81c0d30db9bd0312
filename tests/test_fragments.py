"""Pieces of pages that are the same for everybody are made once per content generation: a logged-in person's page
shows a change at once, and nothing of one person — their buttons, their name — ever reaches another."""

import re

from sqlalchemy import select

from catalogue import fragments
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media.validation import validate_upload
from catalogue.page_cache import ContentGeneration
from catalogue.practices import services as practices
from catalogue.projects.models import Project
from catalogue.workflow import services as workflow
from tests.factories import make_project
from tests.helpers import PDF
from tests.test_page_cache import logged_in
from tests.test_practices_factories import make_practice, practice_data
from tests.test_search_site import count_queries, hits


class Reading:
    """Equal to any statement that starts so (PostgreSQL quotes the name ``user``)."""

    def __init__(self, start: str) -> None:
        self.start = start

    def __eq__(self, statement) -> bool:
        return statement.replace('"', "").startswith(self.start)

    def __repr__(self) -> str:
        return f"{self.start}…"


ANY_SESSION = Reading("SELECT user.id")


def generation(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ContentGeneration.value)) or 0


def test_a_logged_in_reader_sees_a_new_project_at_once_on_the_home_page_and_in_the_catalogue(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Профессия геолога")
    reader = logged_in(app, make_user(roles=("student",)))
    for url in ("/", "/projects/", "/projects/?sort=title"):
        assert "Профессия геолога" in reader.get(url).get_data(as_text=True)

    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Профессия лесника")
    for url in ("/", "/projects/", "/projects/?sort=title"):
        page = reader.get(url).get_data(as_text=True)
        assert "Профессия геолога" in page and "Профессия лесника" in page, url


def test_a_project_taken_off_the_site_leaves_the_lists_of_people_who_saw_it(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        project = make_project(teacher, "published", moderator=moderator, title="Профессия геолога")
        make_practice(moderator, "published", title="Семейная гостиная")
    reader = logged_in(app, make_user(roles=("teacher",)))
    assert "Профессия геолога" in reader.get("/projects/").get_data(as_text=True)
    assert "Семейная гостиная" in reader.get("/practices/").get_data(as_text=True)

    with app.test_request_context():
        workflow.transition(db.session.merge(moderator), db.session.merge(project), "unpublish", "Устарел.")
    assert "Профессия геолога" not in reader.get("/projects/").get_data(as_text=True)
    assert "Профессия геолога" not in reader.get("/").get_data(as_text=True)


def test_the_buttons_of_a_teacher_or_a_moderator_never_appear_to_a_student(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    student = make_user(roles=("student",))  # before the pages are seen: a new account is a change of content
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator)
        make_practice(moderator, "published")
    # The teacher and the moderator see their buttons first, so that the shared pieces are made for them.
    assert "Предложить проект" in logged_in(app, teacher).get("/projects/").get_data(as_text=True)
    assert "Отчёт о тиражировании" in logged_in(app, moderator).get("/practices/").get_data(as_text=True)

    generation_seen = generation(app)
    student = logged_in(app, student)
    assert "Предложить проект" not in student.get("/projects/").get_data(as_text=True)
    practices = student.get("/practices/").get_data(as_text=True)
    assert "Отчёт о тиражировании" not in practices and "Предложить практику" not in practices
    assert "Предложить проект" not in app.test_client().get("/projects/").get_data(as_text=True)
    assert generation(app) == generation_seen  # the pieces were shared, not made again


def test_the_shared_pieces_are_kept_under_the_generation_and_hold_nothing_of_the_person(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator)
        make_practice(moderator, "published")
    reader = make_user(roles=("teacher",), first_name="Евдокия", last_name="Сибирякова", email="evdokia@example.ru")
    browser = logged_in(app, reader)
    for url in ("/", "/projects/", "/projects/?age=8-9", "/practices/"):
        page = browser.get(url).get_data(as_text=True)
        assert "Сибирякова" in page  # the header is hers
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    entries = app.extensions["fragments"].entries
    # the pages' pieces, each list's query and title for its feed and «Подписаться», and the box by the lists'
    # results as everybody logged in gets it, but for their CSRF token (the same for everybody)
    assert {key[2] for key in entries} == {
        "home", "projects.index", "practices.index", "subscriptions.list", "subscriptions.box"
    }
    assert {key[0] for key in entries} == {generation(app)}
    kept = repr(entries)
    for personal in ("Евдокия", "Сибирякова", "evdokia@example.ru", token, "Выйти"):
        assert personal not in kept, personal


def test_a_second_logged_in_request_makes_only_the_persons_query(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        for n in range(3):
            make_project(teacher, "published", moderator=moderator, title=f"Проект № {n}")
            make_practice(moderator, "published", title=f"Практика № {n}")
    browser = logged_in(app, make_user(roles=("teacher",)))
    for url in ("/", "/projects/", "/projects/?sphere=energetika&sort=title", "/practices/"):
        browser.get(url)
        with count_queries(app) as statements:
            assert browser.get(url).status_code == 200
        # The session with its person and the header's unread notices in one query; the content none.
        assert [s for s in statements if s != "BEGIN"] == [ANY_SESSION], url


def test_a_moderator_sees_the_authors_full_name_and_the_buttons_to_decide_and_a_reader_after_them_neither(
    app, make_user
):
    teacher = make_user(roles=("teacher",), first_name="Вера", last_name="Кедрова", middle_name="Ивановна")
    moderator, other = make_user(roles=("moderator",)), make_user(roles=("teacher",))
    with app.test_request_context():
        project = make_project(teacher, "published", moderator=moderator, title="Профессия геолога")
        url = f"/projects/{project.id}-{project.slug}"
    page = logged_in(app, moderator).get(url).get_data(as_text=True)
    assert "Кедрова Вера Ивановна" in page and "Проверка и история" in page

    generation_seen = generation(app)
    for reader in (logged_in(app, other), app.test_client()):
        page = reader.get(url).get_data(as_text=True)
        assert "Профессия геолога" in page and "Вера К." in page
        assert "Кедрова" not in page and "Проверка и история" not in page
    assert generation(app) == generation_seen


def test_an_edit_of_a_published_project_shows_at_once_on_its_page(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        project = make_project(teacher, "published", moderator=moderator, title="Профессия геолога")
        url, project_id = f"/projects/{project.id}-{project.slug}", project.id
    reader = logged_in(app, make_user(roles=("student",)))
    assert "Профессия геолога" in reader.get(url).get_data(as_text=True)
    with app.app_context():
        db.session.get(Project, project_id).goal = "Узнать, как геологи ищут золото в Бодайбо."
        db.session.commit()
    assert "как геологи ищут золото в Бодайбо" in reader.get(url).get_data(as_text=True)


def test_a_files_original_name_reaches_its_uploader_and_the_moderators_and_nobody_after_them(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    other = make_user(roles=("teacher",))  # before the pages are seen: a new account is a change of content
    with app.test_request_context():
        author = db.session.merge(teacher)
        key = media.store_upload(author, validate_upload("document", "Сценарий Кедровой.pdf", PDF)).key
        practice = practices.create_practice(author, practice_data(), practices.FileChanges(add=[key]))
        workflow.transition(author, practice, "submit")
        workflow.transition(db.session.merge(moderator), practice, "publish")
        url = practices.practice_url(practice)
    for person in (teacher, moderator):
        assert "Сценарий Кедровой.pdf" in logged_in(app, person).get(url).get_data(as_text=True)
    generation_seen = generation(app)
    for reader in (logged_in(app, other), app.test_client()):
        page = reader.get(url).get_data(as_text=True)
        assert "Материалы для тиражирования" in page and "Кедровой" not in page
    assert generation(app) == generation_seen  # the pieces were shared, not made again


def test_a_logged_in_search_finds_what_was_published_a_moment_ago(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    reader = logged_in(app, make_user(roles=("student",)))
    assert hits(reader, q="геолог") == []
    assert hits(reader, q="геолог") == []  # from the cache this time
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Профессия геолога")
    assert hits(reader, q="геолог") == ["Профессия геолога"]
    fragment = reader.get("/search?q=геолог", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Профессия геолога" in re.sub(r"<[^>]+>", "", fragment) and "<html" not in fragment


def test_a_feed_made_once_shows_the_next_publication_at_once(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Профессия геолога")
    reader = logged_in(app, make_user(roles=("teacher",)))
    assert "Профессия геолога" in reader.get("/feeds/projects.atom").get_data(as_text=True)
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Профессия лесника")
    feed = reader.get("/feeds/projects.atom").get_data(as_text=True)
    assert "Профессия геолога" in feed and "Профессия лесника" in feed


def test_a_query_string_is_one_key_in_any_order_and_two_different_ones_never_share_it(app):
    def key(query_string: str) -> str:
        # As a WSGI server passes it: the bytes read as Latin-1.
        with app.test_request_context("/projects/", environ_overrides={"QUERY_STRING": query_string}):
            return fragments.query_key()

    assert key("sort=title&age=8-9&age=6-7") == key("age=8-9&age=6-7&sort=title") != key("age=6-7&age=8-9&sort=title")
    # «п» sent as raw UTF-8 bytes and the Latin-1 reading of those bytes, percent-encoded: two different searches.
    assert key("q=п".encode().decode("latin-1")) == key("q=%D0%BF") != key("q=%C3%90%C2%BF")

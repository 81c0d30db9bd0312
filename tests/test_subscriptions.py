"""People subscribe to any search or filtered list and get a digest of what is new; one click unsubscribes."""

import datetime as dt
import email
import email.policy
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, insert, select

from catalogue.extensions import db
from catalogue.subscriptions import digests, services
from catalogue.subscriptions.models import Subscription
from tests.factories import make_project
from tests.helpers import csrf_token

MONDAY = dt.date(2026, 11, 23)


@pytest.fixture
def teacher(make_user):
    return make_user(roles=("teacher",), email="teacher@example.ru", first_name="Ирина")


@pytest.fixture
def moderator(make_user):
    return make_user(roles=("moderator",), email="moderator@example.ru")


@pytest.fixture
def publish(app, teacher, moderator):
    def make(title: str, state: str = "published", **kw) -> int:
        with app.test_request_context():
            return make_project(teacher, state, moderator=moderator, title=title, **kw).id

    return make


def subscribed(app, person, kind="projects", query="age=8-9", frequency="daily") -> int:
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    with app.test_request_context():
        user = db.session.merge(person)
        return services.subscribe(user, kind, MultiDict(parse_qsl(query)), frequency).id


def letters(app) -> list[email.message.EmailMessage]:
    """The digests written so far (no SMTP server in tests: files in instance/mail/), oldest first."""
    folder = Path(app.instance_path) / "mail"
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if folder.exists() else []
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]
    return [m for m in messages if "новое по подписке" in m["Subject"]]


def body(message) -> str:
    return message.get_content()


def send(app, frequency: str, today: dt.date) -> int:
    with app.app_context():
        return digests.send_due(frequency, today)


def subscriptions_of(app, person) -> list[Subscription]:
    with app.app_context():
        rows = db.session.scalars(select(Subscription).where(Subscription.user_id == person.id)).all()
        db.session.expunge_all()
        return list(rows)


# -- «Подписаться» -------------------------------------------------------------------------------------


def test_a_teacher_subscribes_to_a_filtered_list_with_a_plain_form(app, client, auth, teacher):
    auth.login(teacher)
    page = client.get("/projects/?age=8-9&sort=title").get_data(as_text=True)
    assert "Подписаться" in page
    query = re.search(r'name="query" type="hidden" value="([^"]*)"', page).group(1)
    assert query == "age=8-9"  # what chooses the items; not the sort

    response = client.post(
        "/subscriptions/",
        data={"csrf_token": csrf_token(client), "kind": "projects", "query": query, "frequency": "daily"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/projects/?age=8-9"
    page = client.get("/projects/?age=8-9").get_data(as_text=True)
    assert "новое по «Типовые проекты: 8–9 классы» будет приходить на teacher@example.ru раз в день" in page

    mine = client.get("/subscriptions/").get_data(as_text=True)
    assert "Типовые проекты: 8–9 классы" in mine and "Письма раз в день" in mine


def test_subscribing_with_htmx_answers_with_the_box_and_again_changes_the_frequency(app, client, auth, teacher):
    auth.login(teacher)
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client, "/search?q=энергетика")}
    data = {"kind": "search", "query": "type=project&q=энергетика&page=2", "frequency": "weekly"}
    response = client.post("/subscriptions/", data=data, headers=headers)
    assert response.status_code == 200
    box = response.get_data(as_text=True)
    assert box.startswith('<div class="subscribe-box no-print" id="subscribe-box">')
    assert "Готово: новое по «Поиск: «энергетика», Типовой проект» будет приходить" in box
    assert "<html" not in box

    response = client.post("/subscriptions/", data=data | {"frequency": "daily"}, headers=headers)
    assert response.status_code == 200
    [subscription] = subscriptions_of(app, teacher)
    assert (subscription.kind, subscription.frequency) == ("search", "daily")
    assert subscription.query == urlencode({"q": "энергетика", "type": "project"})  # one way, whatever was sent


def test_subscribing_without_a_csrf_token_or_without_logging_in_is_refused(app, client, auth, teacher):
    data = {"kind": "projects", "query": "age=8-9", "frequency": "daily"}
    anonymous = client.post("/subscriptions/", data=data | {"csrf_token": csrf_token(client)})
    assert anonymous.status_code in (302, 303) and "/auth/login" in anonymous.headers["Location"]
    auth.login(teacher)
    assert client.post("/subscriptions/", data=data).status_code == 400
    assert client.post("/subscriptions/", data=data, headers={"HX-Request": "true"}).status_code == 400
    assert subscriptions_of(app, teacher) == []
    # A visitor is offered to log in instead of the button.
    auth.logout()
    page = client.get("/practices/?grade=8").get_data(as_text=True)
    assert "чтобы подписаться" in page and 'action="/subscriptions/"' not in page


def test_a_person_keeps_at_most_fifty_subscriptions(app, client, auth, teacher):
    with app.app_context():
        rows = [
            {"user_id": teacher.id, "kind": "projects", "query": f"duration={i}", "title": "Типовые проекты",
             "frequency": "weekly"}
            for i in range(services.MAX_PER_PERSON)
        ]
        db.session.execute(insert(Subscription), rows)
        db.session.commit()
    auth.login(teacher)
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client)}
    response = client.post(
        "/subscriptions/", data={"kind": "projects", "query": "age=8-9", "frequency": "daily"}, headers=headers
    )
    assert response.status_code == 422
    assert "У вас уже 50 подписок — это наибольшее число." in response.get_data(as_text=True)
    assert len(subscriptions_of(app, teacher)) == services.MAX_PER_PERSON


def test_my_subscriptions_change_and_delete_only_my_own(app, client, auth, teacher, make_user):
    other = make_user(email="other@example.ru")
    mine = subscribed(app, teacher, frequency="daily")
    theirs = subscribed(app, other)
    auth.login(teacher)
    token = csrf_token(client, "/subscriptions/")
    response = client.post(f"/subscriptions/{mine}/frequency", data={"csrf_token": token, "frequency": "weekly"})
    assert response.status_code == 303
    assert "будут приходить раз в неделю" in client.get("/subscriptions/").get_data(as_text=True)
    weekly = {"csrf_token": token, "frequency": "weekly"}
    assert client.post(f"/subscriptions/{theirs}/frequency", data=weekly).status_code == 404
    assert client.post(f"/subscriptions/{theirs}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/subscriptions/{mine}/delete").status_code == 400  # no CSRF token
    assert client.post(f"/subscriptions/{mine}/delete", data={"csrf_token": token}).status_code == 303
    assert subscriptions_of(app, teacher) == []
    assert [s.frequency for s in subscriptions_of(app, other)] == ["daily"]


# -- the digests -------------------------------------------------------------------------------------


def test_the_digest_sends_the_new_published_items_once(app, runner, teacher, publish):
    publish("Проект до подписки", ages=["8-9"])
    subscribed(app, teacher, frequency="daily")
    publish("Энергетики Ангары", ages=["8-9"])
    publish("Для старших классов", ages=["10-11"])
    publish("Черновик для 8–9", state="draft", ages=["8-9"])
    publish("На проверке для 8–9", state="submitted", ages=["8-9"])

    before = len(letters(app))
    first = runner.invoke(args=["digests", "send"])
    second = runner.invoke(args=["digests", "send", "--frequency", "daily"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "раз в день: отправлено писем — 1" in first.output
    assert "раз в день: отправлено писем — 0" in second.output
    [letter] = letters(app)[before:]
    assert letter["To"] == "teacher@example.ru"
    assert letter["Subject"] == "Профориентация Приангарья: новое по подписке «Типовые проекты: 8–9 классы»"
    text = body(letter)
    assert text.startswith("Здравствуйте, Ирина!")
    assert "1. Энергетики Ангары\n   http://localhost/projects/" in text
    for absent in ("Проект до подписки", "Для старших классов", "Черновик", "На проверке"):
        assert absent not in text
    assert "Весь список: http://localhost/projects/?age=8-9" in text
    # RFC 8058 headers, with the same signed link as the letter's text
    unsubscribe = re.search(r"Отписаться от этих писем: (\S+)", text).group(1)
    assert letter["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Nothing new the next day: no letter at all.
    assert send(app, "daily", dt.date.today() + dt.timedelta(days=1)) == 0
    publish("Геологи Приангарья", ages=["8-9"])
    assert send(app, "daily", dt.date.today() + dt.timedelta(days=2)) == 1
    assert "1. Геологи Приангарья" in body(letters(app)[-1]) and "Энергетики" not in body(letters(app)[-1])


def test_weekly_digests_come_once_a_week_and_daily_ones_not_with_them(app, teacher, publish):
    subscribed(app, teacher, kind="practices", query="", frequency="weekly")
    daily = subscribed(app, teacher, query="age=10-11", frequency="daily")
    with app.test_request_context():
        from tests.test_practices_factories import make_practice

        make_practice(db.session.merge(teacher), "published", title="Профпробы в колледже")
    assert send(app, "daily", MONDAY) == 0  # the daily subscription has nothing new
    assert send(app, "weekly", MONDAY) == 1
    assert "1. Профпробы в колледже" in body(letters(app)[-1])
    with app.test_request_context():
        make_practice(db.session.merge(teacher), "published", title="Ярмарка профессий")
    assert send(app, "weekly", MONDAY + dt.timedelta(days=3)) == 0  # the same week
    assert send(app, "weekly", MONDAY + dt.timedelta(days=7)) == 1
    assert "1. Ярмарка профессий" in body(letters(app)[-1]) and "Профпробы" not in body(letters(app)[-1])
    assert [s.last_sent_at for s in subscriptions_of(app, teacher) if s.id == daily] == [None]


def test_a_run_that_died_halfway_is_finished_by_the_next_without_sending_twice(app, teacher, make_user, publish):
    other = make_user(email="other@example.ru")
    first = subscribed(app, teacher)
    subscribed(app, other)
    publish("Энергетики Ангары", ages=["8-9"])
    key = digests.period_key("daily", MONDAY)
    with app.app_context():
        assert digests._digest(first, "daily", key)  # the first subscription's digest committed, then the run died
    assert [m["To"] for m in letters(app)[-1:]] == ["teacher@example.ru"]
    assert send(app, "daily", MONDAY) == 1  # the next run sends the other one only
    assert [m["To"] for m in letters(app) if "Энергетики" in body(m)] == ["teacher@example.ru", "other@example.ru"]


def test_a_search_digest_lists_what_the_search_finds(app, teacher, publish):
    subscribed(app, teacher, kind="search", query="q=геология", frequency="daily")
    publish("Юные геологи", summary="Геология Приангарья.", spheres=["it"])
    publish("Энергетики Ангары")
    assert send(app, "daily", MONDAY) == 1
    text = body(letters(app)[-1])
    assert "1. Юные геологи" in text and "Энергетики" not in text
    assert "Весь список: http://localhost/search?q=%D0%B3%D0%B5%D0%BE%D0%BB%D0%BE%D0%B3%D0%B8%D1%8F&sort=date" in text


# -- unsubscribing -------------------------------------------------------------------------------------


def unsubscribe_link(app, teacher, publish) -> str:
    subscribed(app, teacher)
    publish("Энергетики Ангары", ages=["8-9"])
    send(app, "daily", MONDAY)
    return re.search(r"Отписаться от этих писем: http://localhost(\S+)", body(letters(app)[-1])).group(1)


def test_the_letters_link_asks_then_unsubscribes_without_logging_in(app, client, teacher, publish):
    link = unsubscribe_link(app, teacher, publish)
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Больше не присылать письма о новом по «" in page.get_data(as_text=True)
    assert subscriptions_of(app, teacher)[0].unsubscribed_at is None  # a GET changes nothing (link previews)
    done = client.post(link)  # the page's button: no CSRF token, the signature is the authority
    assert done.status_code == 200
    assert "Вы отписались: писем по «Типовые проекты: 8–9 классы» больше не будет." in done.get_data(as_text=True)
    assert subscriptions_of(app, teacher)[0].unsubscribed_at is not None
    publish("Геологи Приангарья", ages=["8-9"])
    assert send(app, "daily", MONDAY + dt.timedelta(days=1)) == 0


def test_a_mail_clients_one_click_post_unsubscribes(app, client, teacher, publish):
    link = unsubscribe_link(app, teacher, publish)
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriptions_of(app, teacher)[0].unsubscribed_at is not None


def test_a_changed_or_foreign_link_is_refused_with_a_clear_message(app, client, teacher, publish):
    link = unsubscribe_link(app, teacher, publish)
    subscription = subscriptions_of(app, teacher)[0]
    another_site = URLSafeSerializer("another site's key", salt=services.UNSUBSCRIBE_SALT)
    foreign = another_site.dumps([subscription.id, teacher.id])
    for bad in (link[:-3] + "xyz", f"/subscriptions/unsubscribe/{foreign}"):
        for method in (client.get, client.post):
            response = method(bad)
            assert response.status_code == 400
            assert "Ссылка для отписки повреждена или не наша" in response.get_data(as_text=True)
    assert subscriptions_of(app, teacher)[0].unsubscribed_at is None
    with app.app_context():
        db.session.execute(db.delete(Subscription))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    gone = client.post(link)
    assert gone.status_code == 404 and "Такой подписки больше нет" in gone.get_data(as_text=True)


# -- in a browser: the box by the results, «Мои подписки» and the unsubscribe page, for axe and htmx --------------


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # markup and htmx: the same on both databases
def test_in_a_browser_subscribing_swaps_the_box_and_axe_finds_nothing_serious(app, browser, live_server, make_user):
    from tests.test_browser_axe import ACCOUNTS, PASSWORD, _login, _violations

    reader = make_user(email=ACCOUNTS["teacher"], password=PASSWORD)
    link = unsubscribe_link_of(app, reader)
    context = browser.new_context(base_url=live_server, locale="ru-RU")
    page = context.new_page()
    try:
        _login(page, "teacher")
        page.goto("/projects/?age=10-11")
        page.get_by_label("раз в день").check()
        page.get_by_role("button", name="Подписаться").click()
        status = page.locator("#subscribe-box [role=status]")
        status.wait_for()
        assert "Типовые проекты: 10–11 классы" in status.inner_text() and page.url.endswith("/projects/?age=10-11")
    finally:
        context.close()
    pages = ["/projects/?age=10-11", "/subscriptions/", link]
    assert _violations(browser, live_server, "teacher", pages, widths=(375,)) == []


def unsubscribe_link_of(app, person) -> str:
    subscription_id = subscribed(app, person)
    with app.app_context():
        return f"/subscriptions/unsubscribe/{services.unsubscribe_token(db.session.get(Subscription, subscription_id))}"


def test_a_gallery_digest_names_the_entries_never_their_young_authors(app, teacher, make_user):
    from catalogue.clock import utcnow
    from catalogue.contest.models import Entry
    from catalogue.workflow.models import Status
    from tests.contest_support import make_season

    admin = make_user(roles=("admin",), email="admin@example.ru")
    student = make_user(roles=("student",), email="student@example.ru", last_name="Секретова")
    with app.test_request_context():
        season = make_season(admin, 2030, phase="results")
        nomination, category = season.nominations[0].id, season.age_categories[0].id
    subscribed(app, teacher, kind="gallery", query=f"year=2030&nomination={nomination}")
    with app.app_context():
        row = {
            "season_id": season.id, "nomination_id": nomination, "age_category_id": category, "title": "Модель ГЭС",
            "description": "Модель.", "author_id": student.id, "grade": 8, "status": Status.PUBLISHED,
            "organization_id": student.organization_id, "published_at": utcnow() + dt.timedelta(seconds=1),
        }
        db.session.execute(insert(Entry), [row, row | {"title": "Не допущена", "status": Status.REJECTED}])
        db.session.commit()
    assert send(app, "daily", MONDAY) == 1
    text = body(letters(app)[-1])
    assert "1. Модель ГЭС\n   http://localhost/contest/" in text
    assert "Не допущена" not in text and "Секретова" not in text and "student@example.ru" not in text
    assert f"Весь список: http://localhost/contest/2030/?nomination={nomination}" in text


def test_resuming_on_my_subscriptions_brings_only_what_is_published_after(app, client, auth, teacher, publish):
    link = unsubscribe_link(app, teacher, publish)
    client.post(link)
    publish("Пока была отписка", ages=["8-9"])
    auth.login(teacher)
    [subscription] = subscriptions_of(app, teacher)
    assert "Вы отписались" in client.get("/subscriptions/").get_data(as_text=True)
    resumed = client.post(
        f"/subscriptions/{subscription.id}/frequency",
        data={"csrf_token": csrf_token(client, "/subscriptions/"), "frequency": "daily"},
    )
    assert resumed.status_code == 303
    publish("После возобновления", ages=["8-9"])
    assert send(app, "daily", MONDAY + dt.timedelta(days=1)) == 1
    text = body(letters(app)[-1])
    assert "1. После возобновления" in text and "Пока была отписка" not in text

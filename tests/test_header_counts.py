"""What a logged-in person's header and lists show of their own costs no query of its own: the unread notices come
with the session's person, the moderators' badge once per content change, the subscription box once per list with
each person's own CSRF token put in."""

import re

from catalogue.extensions import db
from catalogue.workflow.models import Notification
from tests.factories import make_project
from tests.helpers import csrf_token
from tests.test_fragments import ANY_SESSION
from tests.test_page_cache import logged_in
from tests.test_search_site import count_queries


def badge(page: str) -> str | None:
    """The number on the header's «Уведомления» link, None without a badge."""
    link = re.search(r'<a href="/account/notifications"[^>]*>(.*?)</a>', page, re.S)
    number = re.search(r'badge-count">(\d+)<', link.group(1))
    return number.group(1) if number else None


def queue_badge(page: str) -> str | None:
    found = re.search(r'<a href="/moderation/">Модерация\s*<span[^>]*>(.*?)</span></a>', page, re.S)
    number = re.search(r">(\d+)<", found.group(1))
    return number.group(1) if number else None


def test_the_unread_notices_come_with_the_person_and_follow_every_change_at_once(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Юный энергетик")
    browser = logged_in(app, teacher)
    browser.get("/")
    with count_queries(app) as statements:
        page = browser.get("/").get_data(as_text=True)
    assert badge(page) == "1"
    assert [s for s in statements if s != "BEGIN"] == [ANY_SESSION]  # no query of the badge's own
    # A new notice shows on the next page, whatever the worker: nothing is kept between requests
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Юный геолог")
    assert badge(browser.get("/projects/").get_data(as_text=True)) == "2"
    # Reading them all: the page that answers counts again, and so does every page after it
    token = csrf_token(browser, "/account/notifications")
    after = browser.post("/account/notifications/read", data={"csrf_token": token}, follow_redirects=True)
    assert badge(after.get_data(as_text=True)) is None
    assert badge(browser.get("/").get_data(as_text=True)) is None
    # One notice opened: its own request's header no longer counts it
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Юный лесник")
        notice = db.session.scalars(db.select(Notification).order_by(Notification.id.desc())).first().id
    assert badge(browser.get("/").get_data(as_text=True)) == "1"
    browser.get(f"/account/notifications/{notice}")
    assert badge(browser.get("/account/notifications").get_data(as_text=True)) is None
    # Another person's notices are not in anyone's header
    assert badge(logged_in(app, make_user(roles=("teacher",))).get("/").get_data(as_text=True)) is None


def test_the_moderators_badge_is_counted_once_per_change_of_content(app, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    with app.test_request_context():
        for n in range(2):
            make_project(teacher, "submitted", title=f"На проверке № {n}")
    browser = logged_in(app, moderator)
    assert queue_badge(browser.get("/").get_data(as_text=True)) == "2"
    browser.get("/projects/")  # the list's pieces made
    with count_queries(app) as statements:
        assert queue_badge(browser.get("/projects/").get_data(as_text=True)) == "2"
    assert [s for s in statements if s != "BEGIN"] == [ANY_SESSION]
    # A submission shows at once, to every moderator
    with app.test_request_context():
        make_project(teacher, "submitted", title="На проверке № 3")
    assert queue_badge(browser.get("/").get_data(as_text=True)) == "3"
    other = logged_in(app, make_user(roles=("moderator",)))
    assert queue_badge(other.get("/").get_data(as_text=True)) == "3"
    assert "Модерация" not in logged_in(app, teacher).get("/").get_data(as_text=True).split("<main")[0]


def box_token(page: str) -> str:
    box = page.split('id="subscribe-box"', 1)[1].split("</form>", 1)[0]
    return re.search(r'name="csrf_token" value="([^"]+)"', box).group(1)


def meta_token(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_the_subscription_box_is_made_once_per_list_and_carries_each_persons_own_token(app, make_user):
    first, second = (logged_in(app, make_user(roles=("teacher",))) for _ in range(2))
    mine = first.get("/projects/?age=8-9").get_data(as_text=True)
    with count_queries(app) as statements:
        theirs = second.get("/projects/?age=8-9").get_data(as_text=True)
    assert [s for s in statements if s != "BEGIN"] == [ANY_SESSION]
    assert box_token(mine) == meta_token(mine) and box_token(theirs) == meta_token(theirs)
    assert box_token(mine) != box_token(theirs)
    # The rest of the box is the same for both
    assert mine.split('id="subscribe-box"')[1].replace(box_token(mine), "") == theirs.split('id="subscribe-box"')[
        1
    ].replace(box_token(theirs), "")
    assert "\x00" not in theirs
    # The token works: the second person subscribes to the list from the box, as htmx sends it
    answer = second.post(
        "/subscriptions/",
        data={"csrf_token": box_token(theirs), "kind": "projects", "query": "age=8-9", "frequency": "weekly"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200 and "Изменить подписку" in answer.get_data(as_text=True)
    # Someone else's token does not
    refused = first.post(
        "/subscriptions/",
        data={"csrf_token": box_token(theirs), "kind": "projects", "query": "age=8-9", "frequency": "weekly"},
    )
    assert refused.status_code == 400

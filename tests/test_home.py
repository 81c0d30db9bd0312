"""The home page: counts by age group and sphere, the newest projects and practices, the contest now."""

from sqlalchemy import select

from catalogue.extensions import db
from catalogue.taxonomy.models import AgeGroup
from tests.contest_support import make_season
from tests.factories import make_project
from tests.test_practices_factories import make_practice
from tests.test_search_site import count_queries


def publish_some(app, make_user, projects: int, practices: int) -> None:
    with app.test_request_context():
        teacher = make_user(roles=("teacher",))
        moderator = make_user(roles=("moderator",))
        for n in range(projects):
            make_project(teacher, "published", moderator=moderator, title=f"Опубликованный проект {n}")
        make_project(teacher, "submitted", title="Проект на проверке")
        for n in range(practices):
            make_practice(moderator, "published", title=f"Опубликованная практика {n}")
        make_practice(teacher, "draft", title="Черновик практики")


def test_counts_and_the_newest_published_items(app, client, make_user):
    publish_some(app, make_user, projects=4, practices=2)
    page = client.get("/").get_data(as_text=True)
    # Four published 8-9 projects (the factory's age group), newest three shown; nothing unpublished
    assert "4 проекта" in page
    assert "Опубликованный проект 3" in page and "Опубликованный проект 0" not in page
    assert "Опубликованная практика 1" in page and "Опубликованная практика 0" in page
    assert "Проект на проверке" not in page and "Черновик практики" not in page
    with app.app_context():
        group = db.session.scalar(select(AgeGroup).where(AgeGroup.slug == "8-9"))
    assert f'href="/projects/?age={group.slug}"' in page
    assert 'href="/projects/?sphere=energy"' in page  # a sphere with projects links to them


def test_the_open_season_is_announced(app, client, make_user):
    with app.test_request_context():
        make_season(make_user(roles=("admin",)), year=2027, phase="accepting")
    page = client.get("/").get_data(as_text=True)
    assert "«СоЗДатель-2027»: приём работ" in page and "/contest/2027/" in page


def test_the_number_of_queries_does_not_grow_with_the_content(app, client, make_user):
    publish_some(app, make_user, projects=1, practices=1)
    with count_queries(app) as few:
        client.get("/")
    publish_some(app, make_user, projects=5, practices=5)
    with count_queries(app) as many:
        client.get("/")
    assert len(many) == len(few)

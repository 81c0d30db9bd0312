"""``demo-scale``: a large data set on top of the demo content, every page of it working, written once."""

import re

from sqlalchemy import func, select

from catalogue.contest.models import Entry, Review
from catalogue.extensions import db
from catalogue.practices.models import Practice
from catalogue.projects.models import Project
from catalogue.search import indexer


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_small_scale_run_adds_published_content_that_every_page_shows_and_refuses_a_second_run(
    app, runner, client, auth
):
    refused = runner.invoke(args=["demo-scale", "--projects", "30", "--entries", "50", "--practices", "10"])
    assert refused.exit_code != 0 and "seed-demo" in refused.output  # the demo content comes first
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        before = {model: count(model) for model in (Project, Practice, Entry, Review)}

    result = runner.invoke(args=["demo-scale", "--projects", "30", "--entries", "50", "--practices", "10",
                                 "--procs", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert count(Project) - before[Project] == 30
        assert count(Practice) - before[Practice] == 10
        assert count(Entry) - before[Entry] == 50
        assert count(Review) > before[Review]  # the finished season's entries were judged
        assert indexer.check().ok  # everything is found, with its stored text

    # The new content is on the pages, and a new item can still be added after the bulk ids (PostgreSQL sequences)
    assert "№" in client.get("/projects/").get_data(as_text=True)
    project = re.search(r'href="(/projects/\d+-[^"/]*)"', client.get("/projects/").get_data(as_text=True)).group(1)
    assert client.get(project).status_code == 200
    assert client.get("/contest/").status_code == 200
    assert "№" in client.get("/search", query_string={"q": "проект"}).get_data(as_text=True)
    auth.login("student0@scale.example", "demo-demo-2026")  # its people can log in
    assert client.get("/account/").status_code == 200
    assert runner.invoke(args=["create-user", "--email", "new@example.ru", "--last-name", "Новая", "--first-name",
                               "Анна", "--role", "teacher"], input="long-password-2026\nlong-password-2026\n"
                         ).exit_code == 0  # fmt: skip

    again = runner.invoke(args=["demo-scale", "--projects", "30", "--entries", "50", "--practices", "10"])
    assert again.exit_code != 0
    assert "Большой набор данных уже загружен в эту базу: повторный запуск ничего не добавит." in again.output
    with app.app_context():
        assert count(Project) - before[Project] == 30

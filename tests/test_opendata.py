"""Open data: each content type as a set that a Russian open-data portal takes — passport, structure, data."""

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import insert, select

from catalogue.extensions import db
from catalogue.practices.models import Practice
from catalogue.taxonomy.models import Organization
from tests.factories import make_project
from tests.helpers import published_practice_row, recorded_statements

SETS = ("projects", "practices", "reports", "contest-entries")


def read_csv(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert not raw.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), delimiter=","))


def passport(client, code: str) -> dict[str, str]:
    rows = read_csv(client, f"/opendata/{code}/meta.csv")
    assert rows[0] == ["property", "value"]
    return dict(rows[1:])


@pytest.fixture
def content(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru", middle_name="Станиславовна")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    with app.test_request_context():
        make_project(teacher, "published", moderator, title="Энергетики Ангары", ages=["8-9", "10-11"])
        make_project(teacher, "draft", title="Черновик")
        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        db.session.execute(insert(Practice), [published_practice_row(1, school, teacher.id, dt.datetime(2026, 3, 1))])
        db.session.commit()


def test_the_page_lists_every_set_with_its_passport_structure_and_data(client, content):
    page = client.get("/opendata/").get_data(as_text=True)
    assert "Открытые данные" in page
    for code in SETS:
        assert f'href="/opendata/{code}/meta.csv"' in page
    assert 'href="/opendata/"' in client.get("/").get_data(as_text=True)  # the footer's link


@pytest.mark.parametrize("code", SETS)
def test_each_set_parses_as_the_structure_its_passport_declares(client, content, code):
    meta = passport(client, code)
    assert meta["standardversion"] == "http://opendata.gosmonitor.ru/standard/3.0"
    assert meta["identifier"] == code and meta["format"] == "csv" and meta["title"] and meta["description"]
    assert meta["creator"] and meta["subject"] and meta["created"] and meta["modified"]
    data_key = next(k for k in meta if k.startswith("data-"))
    structure_key = next(k for k in meta if k.startswith("structure-"))
    assert data_key.endswith(structure_key.removeprefix("structure"))  # the data names its structure
    structure = read_csv(client, meta[structure_key].removeprefix("http://localhost"))
    assert structure[0] == ["field name", "english description", "russian description", "format"]
    fields = [row[0] for row in structure[1:]]
    assert all(row[2] and row[3] in {"string", "integer", "date", "datetime", "url"} for row in structure[1:])
    data = read_csv(client, meta[data_key].removeprefix("http://localhost"))
    assert data[0] == fields
    for row in data[1:]:
        assert len(row) == len(fields)
        for value, spec in zip(row, structure[1:], strict=True):
            if value and spec[3] == "integer":
                int(value)
            if value and spec[3] == "date":
                dt.date.fromisoformat(value)


def test_the_data_is_what_is_published_and_nothing_personal(client, content):
    data = read_csv(client, _data_url(client))
    header, rows = data[0], data[1:]
    assert [row[header.index("title")] for row in rows] == ["Энергетики Ангары"]  # not the draft
    project = dict(zip(header, rows[0], strict=True))
    assert project["age_groups"] == "8–9 классы; 10–11 классы"
    assert project["author"] == "Анна И."
    text = "\n".join(",".join(row) for row in data)
    assert "@example.ru" not in text and "Станиславовна" not in text and "Иванова" not in text


def _data_url(client, code: str = "projects") -> str:
    meta = passport(client, code)
    return meta[next(k for k in meta if k.startswith("data-"))].removeprefix("http://localhost")


def test_an_old_or_unknown_file_is_a_404(client, content):
    assert client.get("/opendata/projects/data-20000101-structure-20000101.csv").status_code == 404
    assert client.get("/opendata/people/meta.csv").status_code == 404


@pytest.mark.stale_index  # the forty rows are inserted in bulk, past the search outbox: only the data file counts
def test_the_data_file_is_read_in_batches_whatever_its_length(app, client, content):
    """Two practices or forty: the same queries (one batch of up to 200), so a set of any size streams."""
    url = _data_url(client, "practices")

    def count() -> int:
        with app.app_context(), recorded_statements(db.engine) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    with_one = count()
    with app.app_context():
        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        author = db.session.scalar(select(Practice.author_id).limit(1))
        rows = [published_practice_row(n, school, author, dt.datetime(2026, 3, 1)) for n in range(2, 42)]
        db.session.execute(insert(Practice), rows)
        db.session.commit()
    url = _data_url(client, "practices")  # the content changed: a newer data file
    assert count() == with_one
    assert len(read_csv(client, url)) == 1 + 41

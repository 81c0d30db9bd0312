"""The organizers' results tables stream: memory stays the same for ten times the entries."""

import csv
import io
import tracemalloc

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from catalogue.contest.models import Entry, Review, Score
from catalogue.extensions import db
from catalogue.workflow.models import Status
from tests.contest_support import SCHOOL_A, make_season, organization

ONE = 400  # entries of the small season (two batches of the ranking); the large one has ten times as many


def add_scored_entries(season, author_id: int, juror_id: int, count: int) -> None:
    """``count`` admitted entries spread over the season's groups, each scored by one juror (bulk INSERTs)."""
    school = organization(SCHOOL_A).id
    groups = [(n.id, c.id) for n in season.nominations for c in season.age_categories]
    entries = [
        {
            "season_id": season.id,
            "nomination_id": groups[i % len(groups)][0],
            "age_category_id": groups[i % len(groups)][1],
            "title": f"Работа {i:05d}",
            "description": "Модель.",
            "author_id": author_id,
            "organization_id": school,
            "grade": 8,
            "status": Status.PUBLISHED,
        }
        for i in range(count)
    ]
    ids = db.session.scalars(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), entries).all()
    reviews = db.session.scalars(
        insert(Review).returning(Review.id, sort_by_parameter_order=True),
        [{"entry_id": entry_id, "juror_id": juror_id} for entry_id in ids],
    ).all()
    scores = [
        {"review_id": review_id, "criterion_id": criterion.id, "value": (i * 7 + k) % (criterion.max_score + 1)}
        for i, review_id in enumerate(reviews)
        for k, criterion in enumerate(season.criteria)
    ]
    db.session.execute(insert(Score), scores)
    db.session.commit()


def peak_of_download(client, url: str) -> tuple[int, bytes]:
    """The peak of Python memory while the server makes and sends ``url``, and the first bytes sent.

    The body is read piece by piece and dropped, as a browser saving it to disk would.
    """
    tracemalloc.start()
    try:
        response = client.get(url, buffered=False)
        assert response.status_code == 200
        head = b""
        for piece in response.response:
            if len(head) < 4096:
                head += piece
        response.close()
        return tracemalloc.get_traced_memory()[1], head
    finally:
        tracemalloc.stop()


@pytest.fixture
def two_seasons(app, make_user):
    """Season 2030 with ``ONE`` scored entries and season 2031 with ten times as many."""
    admin = make_user(roles=("admin",), email="admin@example.ru")
    student = make_user(roles=("student",), email="student@example.ru")
    juror = make_user(roles=("jury",), email="juror@example.ru")
    with app.test_request_context():
        for year, count in ((2030, ONE), (2031, 10 * ONE)):
            season = make_season(admin, year, phase="results")
            add_scored_entries(season, student.id, juror.id, count)
    return admin


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_the_results_table_of_ten_times_the_entries_takes_no_more_memory(app, client, auth, two_seasons, extension):
    auth.login("admin@example.ru")
    small, head = peak_of_download(client, f"/contest/admin/2030/results.{extension}")
    large, _ = peak_of_download(client, f"/contest/admin/2031/results.{extension}")
    # Read whole, ten times the entries would take about ten times the memory; streamed, it is the same
    assert large < 1.5 * small, (small, large)
    if extension == "csv":
        rows = list(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="ignore")), delimiter=";"))
        assert rows[0][:3] == ["Номинация", "Возрастная категория", "Место"] and rows[1][
            rows[0].index("Работа")
        ].startswith("Работа ")


def test_a_streamed_workbook_holds_every_entry_in_ranking_order(app, client, auth, two_seasons):
    auth.login("admin@example.ru")
    body = client.get("/contest/admin/2030/results.xlsx").data
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == ONE + 1 and rows[0][0] == "Номинация"
    with app.app_context():
        assert len(db.session.scalars(select(Entry.id).where(Entry.title.like("Работа %"))).all()) == 11 * ONE
    # Within a group, places go 1, 2, 3, … down the table
    first_group = [r for r in rows[1:] if (r[0], r[1]) == (rows[1][0], rows[1][1])]
    assert [r[2] for r in first_group] == list(range(1, len(first_group) + 1))

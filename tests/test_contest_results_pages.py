"""The administrators' results, a page at a time: the awards chosen on a page are kept until the whole season is
confirmed by one UPDATE, which fixes the same totals, places and awards as the ranking proposes."""

import re

import pytest
from sqlalchemy import insert, select

from catalogue.contest import results
from catalogue.contest.models import Award, Entry, Review, Score, Season
from catalogue.extensions import db
from catalogue.pagination import NUMBERED_PAGES, PER_PAGE
from catalogue.permissions import Conflict, InvalidInput
from catalogue.workflow.models import Status
from tests.contest_support import make_season, set_phase
from tests.helpers import csrf_token
from tests.test_lists_bounded import link

YEAR = 2031


def _entries_with_scores(season: Season, student, jurors, count: int) -> list[int]:
    """``count`` admitted entries spread over the season's groups, scored by the jurors so that totals tie often
    (then the first criterion and the submission order decide); every seventh entry is not scored at all."""
    groups = [(n.id, c.id) for n in season.nominations for c in season.age_categories]
    rows = [
        {
            "season_id": season.id,
            "nomination_id": groups[i % len(groups)][0],
            "age_category_id": groups[i % len(groups)][1],
            "title": f"Работа {i}",
            "description": "Модель.",
            "author_id": student.id,
            "grade": 8,
            "status": Status.PUBLISHED,
        }
        for i in range(count)
    ]
    ids = db.session.scalars(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), rows).all()
    scored = [(entry_id, juror.id) for entry_id in ids if entry_id % 7 for juror in jurors]
    reviews = db.session.execute(
        insert(Review).returning(Review.id, Review.entry_id, Review.juror_id, sort_by_parameter_order=True),
        [{"entry_id": entry_id, "juror_id": juror_id} for entry_id, juror_id in scored],
    ).all()
    first, second = season.criteria
    scores = []
    for review_id, entry_id, juror_id in reviews:
        scores.append({"review_id": review_id, "criterion_id": first.id, "value": (entry_id * 3 + juror_id) % 11})
        scores.append({"review_id": review_id, "criterion_id": second.id, "value": (entry_id + juror_id) % 6})
    db.session.execute(insert(Score), scores)
    db.session.commit()
    return list(ids)


@pytest.fixture
def finished(app, make_user):
    """A season whose jury has finished; its administrator, student and two jurors."""
    people = {
        "admin": make_user(roles=("admin",), email="admin@example.ru"),
        "student": make_user(roles=("student",), email="student@example.ru"),
        "juror": make_user(roles=("jury",), email="juror@example.ru"),
        "juror_b": make_user(roles=("jury",), email="juror-b@example.ru"),
    }
    with app.test_request_context():
        season = make_season(people["admin"], YEAR, phase="results")
        season_id = season.id
        db.session.expunge_all()
    return season_id, people


def _confirmed(season_id: int) -> dict[int, tuple]:
    rows = db.session.execute(
        select(Entry.id, Entry.total_score, Entry.rank, Entry.award).where(Entry.season_id == season_id)
    ).all()
    return {entry_id: (total, rank, award) for entry_id, total, rank, award in rows}


def test_confirmation_fixes_what_the_ranking_proposes_for_a_season_of_hundreds(app, finished):
    season_id, people = finished
    with app.test_request_context():
        season = db.session.get(Season, season_id)
        _entries_with_scores(season, people["student"], [people["juror"], people["juror_b"]], 300)
        # What the confirmation stored before, entry by entry: the ranking's totals, places and proposed awards
        expected = {
            s.entry.id: (s.total, s.place, s.proposed.value)
            for group in results.ranking(season)
            for s in group.standings
        }
        assert len(expected) == 300
        assert {award for _total, _place, award in expected.values()} == {"winner", "prize", "participant"}
        results.confirm_results(db.session.merge(people["admin"]), season)
        assert _confirmed(season_id) == expected


def _award_selects(page: str) -> dict[int, str]:
    """The page's award selects: entry id -> the award selected."""
    found = re.findall(r'<select name="award-(\d+)".*?<option value="(\w+)" selected', page, re.S)
    return {int(entry_id): award for entry_id, award in found}


def test_the_ranking_pages_past_the_offset_ones_by_number_and_back_without_losing_an_entry(app, client, auth, finished):
    season_id, people = finished
    with app.test_request_context():
        season = db.session.get(Season, season_id)
        _entries_with_scores(season, people["student"], [people["juror"]], PER_PAGE * (NUMBERED_PAGES + 2) + 7)
        ranked = [s.entry.id for group in results.ranking(season) for s in group.standings]
    auth.login("admin@example.ru")
    url, pages = f"/contest/admin/{YEAR}/results", []
    while url:
        page, last = client.get(url).get_data(as_text=True), url
        pages.append(list(_award_selects(page)))
        url = link(page, "next")
    # Every entry once, in the ranking's order, the last pages by number too (their start sought by key); a group
    # continued says so
    assert [entry_id for found in pages for entry_id in found] == ranked
    assert len(pages) == NUMBERED_PAGES + 3 and last.endswith(f"?page={NUMBERED_PAGES + 3}")
    # Any of them by its number at once (a deep one read from the key its group's count gives), or past the last
    for number in (NUMBERED_PAGES + 2, NUMBERED_PAGES + 1, NUMBERED_PAGES + 3, 1427):
        page_again = client.get(f"/contest/admin/{YEAR}/results?page={number}").get_data(as_text=True)
        assert list(_award_selects(page_again)) == pages[min(number, len(pages)) - 1], number
    assert "(продолжение)</h2>" in page
    # «← Назад» from the last page shows the page before it again
    assert list(_award_selects(client.get(link(page, "prev")).get_data(as_text=True))) == pages[-2]


def test_an_award_saved_on_the_second_page_survives_confirmation(app, client, auth, finished):
    season_id, people = finished
    with app.test_request_context():
        season = db.session.get(Season, season_id)
        _entries_with_scores(season, people["student"], [people["juror"], people["juror_b"]], 2 * PER_PAGE + 5)
    auth.login("admin@example.ru")
    first = client.get(f"/contest/admin/{YEAR}/results").get_data(as_text=True)
    assert len(_award_selects(first)) == PER_PAGE
    assert "Техника будущего · 6–8 классы</h2>" in first
    second = client.get(f"/contest/admin/{YEAR}/results?page=2").get_data(as_text=True)
    on_second = _award_selects(second)
    assert len(on_second) == PER_PAGE and not on_second.keys() & _award_selects(first).keys()
    # The administrator makes one participant of page 2 a winner and saves the page
    chosen = next(entry_id for entry_id, award in on_second.items() if award == Award.PARTICIPANT)
    form = {f"award-{entry_id}": award for entry_id, award in on_second.items()} | {f"award-{chosen}": "winner"}
    token = csrf_token(client, f"/contest/admin/{YEAR}/results?page=2")
    saved = client.post(f"/contest/admin/{YEAR}/results?page=2", data={"csrf_token": token, "action": "save", **form})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?page=2")
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Награды на странице сохранены" in page and _award_selects(page)[chosen] == "winner"
    with app.app_context():
        # Nothing is confirmed yet: only the choice is kept, and just for the entry that differs from the proposal
        assert db.session.scalar(select(Entry.award).where(Entry.id == chosen)) is None
        overrides = db.session.scalars(select(Entry.id).where(Entry.award_override.is_not(None))).all()
        assert overrides == [chosen]
    # Then the whole season is confirmed from any page
    confirmed = client.post(f"/contest/admin/{YEAR}/results?page=1", data={"csrf_token": token, "action": "confirm"})
    assert "Итоги утверждены" in client.get(confirmed.headers["Location"]).get_data(as_text=True)
    with app.test_request_context():
        season = db.session.get(Season, season_id)
        proposed = {s.entry.id: s.proposed.value for group in results.ranking(season) for s in group.standings}
        awards = {entry_id: award for entry_id, (_t, _r, award) in _confirmed(season_id).items()}
        assert awards == proposed | {chosen: "winner"}


def test_the_rules_of_confirmation_hold_for_saving_a_page(app, client, auth, finished):
    season_id, people = finished
    with app.test_request_context():
        season = db.session.get(Season, season_id)
        (entry_id, *_) = _entries_with_scores(season, people["student"], [people["juror"]], 3)
        admin = db.session.merge(people["admin"])
        with pytest.raises(InvalidInput, match="Выберите награду из списка"):
            results.save_awards(admin, season, {entry_id: "gold"})
        set_phase(admin, season, "judging")
        with pytest.raises(Conflict, match="после окончания работы жюри"):
            results.save_awards(admin, season, {entry_id: "prize"})
        set_phase(admin, season, "results")
    auth.login("admin@example.ru")
    token = csrf_token(client, f"/contest/admin/{YEAR}/results")
    form = {"csrf_token": token, "action": "save", f"award-{entry_id}": "prize"}
    # Without the form's token nothing is saved
    client.post(f"/contest/admin/{YEAR}/results", data={**form, "csrf_token": "x"})
    with app.test_request_context():
        assert db.session.scalar(select(Entry.award_override).where(Entry.id == entry_id)) is None
        # Once the results are published, a page's awards are not saved either
        admin, season = db.session.merge(people["admin"]), db.session.get(Season, season_id)
        results.confirm_results(admin, season)
        results.publish_results(admin, season)
    answer = client.post(f"/contest/admin/{YEAR}/results", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Итоги уже опубликованы: сначала снимите их с публикации." in answer
    with app.app_context():
        assert db.session.scalar(select(Entry.award_override).where(Entry.id == entry_id)) is None

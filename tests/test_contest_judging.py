"""The jury: who scores what and when, all-or-nothing scores; the ranking with its tie rule; awards."""

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from catalogue.contest import judging, results, seasons
from catalogue.contest.models import Award, Entry, Review, Score
from catalogue.extensions import db
from catalogue.permissions import Conflict, InvalidInput, PermissionDenied
from catalogue.workflow.models import Notification
from tests.contest_support import (
    SCHOOL_A,
    SCHOOL_B,
    UNIVERSITY,
    loaded,
    make_entry,
    make_season,
    organization,
    season_data,
    set_phase,
)
from tests.helpers import csrf_token


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        school_a, school_b, university = organization(SCHOOL_A), organization(SCHOOL_B), organization(UNIVERSITY)
        made = {
            "admin": make_user(roles=("admin",), email="admin@example.ru"),
            "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
            "teacher": make_user(roles=("teacher",), email="teacher@example.ru", organization=school_a),
            "student_a": make_user(roles=("student",), email="a@example.ru", grade=8, organization=school_a),
            "student_b": make_user(roles=("student",), email="b@example.ru", grade=7, organization=school_b),
            "student_c": make_user(roles=("student",), email="c@example.ru", grade=6, organization=school_b),
            "juror": make_user(roles=("jury",), email="juror@example.ru", organization=university),
            "juror_a": make_user(roles=("jury",), email="juror-a@example.ru", organization=school_a),
            "outsider": make_user(roles=("jury",), email="outsider@example.ru", organization=university),
        }
        return loaded(made)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def contest_ids(app, people):
    """A season in judging with three admitted entries in nomination 0 (one from juror_a's school): its year
    and the entries' ids. (Made in a context of its own: the test client must not share one.)"""
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        for key in ("juror", "juror_a"):
            seasons.assign_juror(admin, season, season.nominations[0].id, people[key].id)
        seasons.assign_juror(admin, season, season.nominations[1].id, people["outsider"].id)
        made = {
            key: make_entry(people[key], season, "published", moderator=people["moderator"], title=f"Работа {key[-1]}")
            for key in ("student_a", "student_b", "student_c")
        }
        set_phase(admin, season, "judging")
        return season.year, {key: entry.id for key, entry in made.items()}


@pytest.fixture
def contest(contest_ids, ctx):
    year, ids = contest_ids
    return seasons.season_by_year(year), {key: db.session.get(Entry, entry_id) for key, entry_id in ids.items()}


def score(person, entry, values, comment=""):
    season = entry.season
    return judging.save_review(
        db.session.merge(person), entry, {c.id: v for c, v in zip(season.criteria, values, strict=True)}, comment
    )


def test_juror_sees_the_admitted_entries_of_their_nominations_and_progress(app, people, contest):
    season, made = contest
    items = judging.items_for(db.session.merge(people["juror_a"]), season)
    assert [i.entry.title for i in items] == ["Работа a", "Работа b", "Работа c"]
    # Their own school's entry is marked and does not count towards progress
    assert [i.conflict for i in items] == [True, False, False]
    assert judging.progress_for(db.session.merge(people["juror_a"]), season) == judging.Progress(0, 2)
    score(people["juror_a"], made["student_b"], [7, 3], "Аккуратная модель")
    progress = judging.jury_progress(db.session.merge(people["admin"]), season)
    by_email = {p.juror.email: (p.progress.scored, p.progress.total, p.conflicts) for p in progress}
    assert by_email == {
        "juror@example.ru": (0, 3, 0),
        "juror-a@example.ru": (1, 2, 1),
        "outsider@example.ru": (0, 0, 0),
    }
    with pytest.raises(PermissionDenied):
        judging.jury_progress(db.session.merge(people["juror"]), season)


def test_juror_never_scores_an_entry_of_their_own_school(app, people, contest):
    _season, made = contest
    with pytest.raises(PermissionDenied, match="вашей организации"):
        score(people["juror_a"], made["student_a"], [5, 5])
    assert db.session.scalar(select(func.count(Review.id))) == 0


def test_juror_outside_the_nomination_is_refused(app, people, contest):
    _season, made = contest
    with pytest.raises(PermissionDenied):
        score(people["outsider"], made["student_b"], [5, 5])
    with pytest.raises(PermissionDenied):
        score(people["teacher"], made["student_b"], [5, 5])
    assert db.session.scalar(select(func.count(Review.id))) == 0


@pytest.mark.parametrize(("values", "field"), [([11, 3], 0), ([5, -1], 1), ([5, 6], 1), ([5, None], 1)])
def test_a_score_out_of_range_or_missing_saves_nothing(app, people, contest, values, field):
    season, made = contest
    with pytest.raises(InvalidInput) as refused:
        score(people["juror"], made["student_b"], values)
    assert refused.value.field == f"score-{season.criteria[field].id}"
    assert db.session.scalar(select(func.count(Review.id))) == 0
    assert db.session.scalar(select(func.count(Score.id))) == 0


def test_a_rescore_replaces_every_value_or_none(app, people, contest):
    _season, made = contest
    score(people["juror"], made["student_b"], [8, 4])
    with pytest.raises(InvalidInput):
        score(people["juror"], made["student_b"], [2, 9])
    review = db.session.scalar(select(Review))
    db.session.refresh(review)
    assert sorted(s.value for s in review.scores) == [4, 8]
    score(people["juror"], made["student_b"], [2, 1], "Пересмотрел")
    db.session.refresh(review)
    assert sorted(s.value for s in review.scores) == [1, 2] and review.comment == "Пересмотрел"


def test_scores_lock_when_judging_closes_and_wait_until_it_opens(app, people, contest):
    season, made = contest
    score(people["juror"], made["student_b"], [8, 4])
    set_phase(people["admin"], season, "results")
    with pytest.raises(Conflict, match="завершена"):
        score(people["juror"], made["student_b"], [1, 1])
    set_phase(people["admin"], season, "accepting")
    with pytest.raises(Conflict, match="принимаются с"):
        score(people["juror"], made["student_c"], [1, 1])
    assert sorted(db.session.scalars(select(Score.value))) == [4, 8]


def test_the_scoring_page_for_jurors(app, people, contest_ids, client, auth):
    year, ids = contest_ids
    entry_id, conflict_id = ids["student_b"], ids["student_a"]
    with app.app_context():
        criteria = [c.id for c in seasons.season_by_year(year).criteria]
    auth.login(people["juror_a"])
    page = client.get("/contest/jury/").get_data(as_text=True)
    assert "Работа b" in page and "своя организация" in page
    token = csrf_token(client, f"/contest/jury/entries/{entry_id}")
    # Out of range: the form says so, nothing is saved
    bad = {"csrf_token": token, f"score_{criteria[0]}": "12", f"score_{criteria[1]}": "3"}
    response = client.post(f"/contest/jury/entries/{entry_id}", data=bad)
    assert response.status_code == 422
    assert "От 0 до 10." in response.get_data(as_text=True)
    good = {"csrf_token": token, f"score_{criteria[0]}": "9", f"score_{criteria[1]}": "4", "comment": "Хорошо"}
    assert client.post(f"/contest/jury/entries/{entry_id}", data=good).status_code == 303
    # The conflicted entry refuses scores through the page too
    response = client.post(f"/contest/jury/entries/{conflict_id}", data=good)
    assert response.status_code == 403
    # An entry of another nomination does not exist for them
    auth.logout()
    auth.login(people["outsider"])
    assert client.get(f"/contest/jury/entries/{entry_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Review.id))) == 1


def test_blind_judging_hides_authors_from_jurors_and_the_public(app, people, contest_ids, client, auth):
    year, ids = contest_ids
    with app.test_request_context():
        season = seasons.season_by_year(year)
        data = season_data(year, "judging", blind_judging=True)
        seasons.update_season(db.session.merge(people["admin"]), season, data)
    name = people["student_b"].public_name
    entry_id = ids["student_b"]
    assert name not in client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert "Работа b" in client.get(f"/contest/{year}/").get_data(as_text=True)
    assert name not in client.get(f"/contest/{year}/").get_data(as_text=True)
    auth.login(people["juror"])
    assert name not in client.get(f"/contest/jury/entries/{entry_id}").get_data(as_text=True)


# -- ranking and results ------------------------------------------------------------------------------


def test_ranking_by_weighted_total_with_the_stated_tie_rule(app, people, contest):
    season, made = contest
    a, b, c = made["student_a"], made["student_b"], made["student_c"]
    # juror: criteria weights 1.5 and 1.0
    score(people["juror"], a, [8, 2])  # 14.0
    score(people["juror"], b, [6, 5])  # 14.0, first criterion lower
    score(people["juror"], c, [8, 2])  # 14.0, same as a
    # Equal totals and equal first criterion: the earlier submission wins
    db.session.execute(update(Entry).where(Entry.id == a.id).values(submitted_at=dt.datetime(2027, 1, 2)))
    db.session.execute(update(Entry).where(Entry.id == c.id).values(submitted_at=dt.datetime(2027, 1, 1)))
    db.session.commit()
    # Categories: a is 8th grade, b 7th, c 6th: one category 6–8
    (group,) = results.ranking(season)
    assert [(s.entry.title, s.total, s.place, s.proposed) for s in group.standings] == [
        ("Работа c", 14.0, 1, Award.WINNER),
        ("Работа a", 14.0, 2, Award.PRIZE),
        ("Работа b", 14.0, 3, Award.PRIZE),
    ]
    # A second juror's scores are averaged per criterion
    score(people["juror_a"], b, [10, 5])  # b: means 8 and 5 -> 17.0
    (group,) = results.ranking(season)
    assert (group.standings[0].entry.title, group.standings[0].total) == ("Работа b", 17.0)
    assert "первому критерию" in results.TIE_RULE and "раньше" in results.TIE_RULE


def test_unscored_entries_rank_last_as_participants(app, people, contest):
    season, made = contest
    score(people["juror"], made["student_b"], [1, 1])
    (group,) = results.ranking(season)
    assert group.standings[0].entry.title == "Работа b"
    assert [s.place for s in group.standings[1:]] == [None, None]
    assert all(s.proposed == Award.PARTICIPANT for s in group.standings[1:])


def test_results_are_confirmed_after_judging_then_published(app, people, contest_ids, client):
    year, ids = contest_ids
    with app.test_request_context():
        season = seasons.season_by_year(year)
        made = {key: db.session.get(Entry, entry_id) for key, entry_id in ids.items()}
        admin = db.session.merge(people["admin"])
        score(people["juror"], made["student_b"], [9, 5])
        score(people["juror"], made["student_c"], [3, 1])
        with pytest.raises(Conflict, match="после окончания"):
            results.confirm_results(admin, season, {})
        set_phase(admin, season, "results")
        with pytest.raises(Conflict, match="утвердите"):
            results.publish_results(admin, season)
        # The administrator may change a proposed award
        results.confirm_results(admin, season, {made["student_c"].id: Award.PRIZE})
        assert (made["student_b"].award, made["student_b"].rank) == (Award.WINNER, 1)
        assert made["student_c"].award == Award.PRIZE
        assert made["student_a"].award == Award.PARTICIPANT
    assert "Итоги будут объявлены" in client.get(f"/contest/{year}/results").get_data(as_text=True)
    with app.test_request_context():
        told = results.publish_results(db.session.merge(people["admin"]), seasons.season_by_year(year))
        assert told == 3
        notes = db.session.scalars(select(Notification.text)).all()
        assert any("Работа b" in n and "победитель" in n for n in notes)
    page = client.get(f"/contest/{year}/results").get_data(as_text=True)
    assert "Работа b" in page and "Победитель" in page and "при равенстве" in page.lower()
    assert f"/contest/entries/{ids['student_b']}" in page

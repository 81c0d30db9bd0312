"""The contest: season phases and administration, entries in the shared workflow, deadlines and consents."""

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalogue.contest import entries, seasons
from catalogue.contest.models import ConsentRecord, Entry, Phase, Season, contest_today
from catalogue.extensions import db
from catalogue.media.models import StoredFile
from catalogue.permissions import Conflict, InvalidInput, PermissionDenied
from catalogue.workflow import registry
from catalogue.workflow import services as workflow
from catalogue.workflow.models import AuditEntry, Notification, Status
from tests.contest_support import (
    SCHOOL_A,
    SCHOOL_B,
    UNIVERSITY,
    fetch_status,
    loaded,
    make_entry,
    make_season,
    organization,
    parent_confirms,
    season_data,
    set_phase,
    years_ago,
)
from tests.helpers import csrf_token


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        school_a, school_b, university = organization(SCHOOL_A), organization(SCHOOL_B), organization(UNIVERSITY)
        made = {
            "admin": make_user(roles=("admin",), email="admin@example.ru"),
            "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
            "teacher": make_user(
                roles=("teacher",), email="teacher@example.ru", last_name="Кузнецова", organization=school_a
            ),
            "teacher_b": make_user(roles=("teacher",), email="teacher-b@example.ru", organization=school_b),
            # 13 years old: a parent consents for him
            "student": make_user(
                roles=("student",),
                email="student@example.ru",
                last_name="Волков",
                first_name="Артём",
                grade=8,
                birth_date=years_ago(13),
                organization=school_a,
            ),
            # 16 years old: consents herself
            "senior": make_user(
                roles=("student",),
                email="senior@example.ru",
                last_name="Соболева",
                first_name="Алёна",
                grade=10,
                birth_date=years_ago(16),
                organization=school_b,
            ),
            "juror": make_user(roles=("jury",), email="juror@example.ru", organization=university),
        }
        return loaded(made)


@pytest.fixture
def ctx(app):
    """Services called directly, in a request context (notifications build URLs)."""
    with app.test_request_context():
        yield


@pytest.fixture
def year(app, people) -> int:
    """A season accepting entries; its year. (Made in a context of its own: tests that also use the
    test client must not share an app context with it.)"""
    with app.test_request_context():
        return make_season(people["admin"]).year


@pytest.fixture
def season(year, ctx) -> Season:
    return seasons.season_by_year(year)


# -- phases -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["announced", "accepting", "judging", "results"])
def test_the_phase_follows_the_dates(app, people, ctx, phase):
    season = make_season(people["admin"], phase=phase)
    assert season.current_phase == Phase(phase)


def test_phase_boundaries_are_whole_days_in_irkutsk():
    season = Season(
        year=2027,
        title="СоЗДатель-2027",
        submission_opens=dt.date(2027, 1, 10),
        submission_closes=dt.date(2027, 3, 1),
        judging_opens=dt.date(2027, 3, 2),
        judging_closes=dt.date(2027, 3, 20),
        results_date=dt.date(2027, 4, 1),
    )
    assert season.phase(dt.date(2027, 1, 9)) == Phase.ANNOUNCED
    assert season.phase(dt.date(2027, 1, 10)) == Phase.ACCEPTING
    # The last day of the window still accepts
    assert season.phase(dt.date(2027, 3, 1)) == Phase.ACCEPTING
    assert season.phase(dt.date(2027, 3, 2)) == Phase.JUDGING
    assert season.phase(dt.date(2027, 3, 21)) == Phase.RESULTS
    assert season.phase(dt.date(2028, 4, 1)) == Phase.ARCHIVED


def test_the_contest_page_shows_the_current_season_and_its_phase(app, client, year):
    page = client.get("/contest/").get_data(as_text=True)
    assert "СоЗДатель-2027" in page
    assert "Приём работ" in page
    season_page = client.get("/contest/2027/").get_data(as_text=True)
    assert "Техника будущего" in season_page and "9–11 классы" in season_page and "Оригинальность" in season_page
    assert client.get("/contest/1999/").status_code == 404


def test_season_dates_must_be_in_order_and_the_year_unique(app, people, ctx, season):
    admin = db.session.merge(people["admin"])
    bad = season_data(2028, judging_opens=season.submission_opens)
    with pytest.raises(InvalidInput) as refused:
        seasons.create_season(admin, bad)
    assert refused.value.field == "judging_opens"
    with pytest.raises(InvalidInput, match="уже есть"):
        seasons.create_season(admin, season_data(2027))
    with pytest.raises(PermissionDenied):
        seasons.create_season(db.session.merge(people["teacher"]), season_data(2029))


def test_copy_from_the_previous_season_takes_its_structure_and_jury(app, people, ctx, season):
    admin = db.session.merge(people["admin"])
    seasons.assign_juror(admin, season, season.nominations[0].id, people["juror"].id)
    copy = seasons.copy_season(admin, season, 2028)
    assert copy.title == "СоЗДатель-2028"
    assert [n.name for n in copy.nominations] == ["Техника будущего", "Архитектура"]
    assert [(c.grade_from, c.grade_to) for c in copy.age_categories] == [(6, 8), (9, 11)]
    assert [(c.name, c.max_score, c.weight) for c in copy.criteria] == [
        ("Сложность модели", 10, 1.5),
        ("Оригинальность", 5, 1.0),
    ]
    assert copy.submission_opens == season.submission_opens.replace(year=season.submission_opens.year + 1)
    assert [(a.nomination.name, a.juror_id) for a in seasons.jury_of(copy)] == [
        ("Техника будущего", people["juror"].id)
    ]


def test_a_juror_put_on_a_nomination_is_told_in_the_site_and_by_mail(app, people, ctx, season):
    seasons.assign_juror(db.session.merge(people["admin"]), season, season.nominations[1].id, people["juror"].id)
    notes = db.session.scalars(select(Notification).where(Notification.user_id == people["juror"].id)).all()
    assert len(notes) == 1
    assert "номинация «Архитектура»" in notes[0].text and season.title in notes[0].text
    assert notes[0].url == f"/contest/jury/?year={season.year}"
    letters = [p.read_text() for p in (Path(app.instance_path) / "mail").glob("*.eml")]
    assert len(letters) == 1 and "juror@example.ru" in letters[0]
    # Nobody else is told
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_admin_builds_a_season_through_the_pages(app, client, auth, people):
    auth.login(people["admin"])
    token = csrf_token(client, "/contest/admin/new")
    today = contest_today()
    form = {
        "csrf_token": token,
        "year": "2030",
        "title": "СоЗДатель-2030",
        "rules": "## Положение",
        "submission_opens": today.isoformat(),
        "submission_closes": (today + dt.timedelta(days=30)).isoformat(),
        "judging_opens": (today + dt.timedelta(days=31)).isoformat(),
        "judging_closes": (today + dt.timedelta(days=40)).isoformat(),
        "results_date": (today + dt.timedelta(days=45)).isoformat(),
        "entries_per_nomination": "1",
    }
    response = client.post("/contest/admin/new", data=form)
    assert response.status_code == 303
    # Overlapping age categories are refused, in Russian, with the form kept
    client.post("/contest/admin/2030/categories/new", data={"csrf_token": token, "name": "6–8", "grade_from": 6,
                                                             "grade_to": 8})  # fmt: skip
    response = client.post(
        "/contest/admin/2030/categories/new", data={"csrf_token": token, "name": "8–9", "grade_from": 8, "grade_to": 9}
    )
    assert response.status_code == 422
    assert "пересекаются" in response.get_data(as_text=True)
    page = client.get("/contest/admin/2030/").get_data(as_text=True)
    assert "6–8" in page and "8–9" not in page
    # Nobody else gets in
    auth.logout()
    auth.login(people["teacher"])
    assert client.get("/contest/admin/2030/").status_code == 403


# -- entries ----------------------------------------------------------------------------------------


def test_student_saves_a_draft_and_submits_it_before_the_deadline(app, people, ctx, season):
    entry = make_entry(people["student"], season)
    assert entry.status == Status.DRAFT
    assert entry.organization.name == SCHOOL_A and entry.grade == 8
    assert entry.viewer_file is not None and entry.viewer_file.extension == "glb"
    workflow.transition(db.session.merge(people["student"]), entry, "submit")
    assert entry.status == Status.SUBMITTED


def test_submission_after_the_window_closes_is_refused_on_the_server(app, people, year, client, auth):
    with app.test_request_context():
        season = seasons.season_by_year(year)
        entry = make_entry(people["student"], season)
        entry_id = entry.id
        set_phase(people["admin"], season, "judging")
        student = db.session.merge(people["student"])
        # No button...
        assert [t.action for t in workflow.actions_for(student, entry) if t.action == "submit"] == []
        # ... and the service refuses a forged request, with the reason
        with pytest.raises(Conflict, match="закрыт"):
            workflow.transition(student, entry, "submit")
        assert db.session.get(Entry, entry_id).status == Status.DRAFT
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.content_type == "entry")) == 0
        with pytest.raises(Conflict):
            make_entry(people["student"], seasons.season_by_year(year), nomination=1)
    # Through the web: 409 with the reason; a new entry cannot be started either
    auth.login(people["student"])
    token = csrf_token(client, "/contest/")
    response = client.post(f"/workflow/entry/{entry_id}/submit", data={"csrf_token": token})
    assert response.status_code == 409
    closed = response.get_data(as_text=True)
    assert "Приём работ закрыт: работы на конкурс" in closed
    assert "Состояние материала изменилось" not in closed  # the general text would mislead here
    assert client.get(f"/contest/{year}/submit").status_code == 409
    with app.app_context():
        assert db.session.get(Entry, entry_id).status == Status.DRAFT


def test_a_draft_made_before_the_window_opens_waits_for_it(app, people, ctx, season):
    entry = make_entry(people["student"], season)
    set_phase(people["admin"], season, "announced")
    # Not «закрыт»: the window has not opened yet, and the student is told when it does
    with pytest.raises(Conflict, match=r"Приём работ ещё не начался: работы на конкурс .* принимаются с "):
        workflow.transition(db.session.merge(people["student"]), entry, "submit")
    assert entry.status == Status.DRAFT


def test_one_entry_per_student_per_nomination_unless_the_season_allows_more(app, people, ctx, season):
    make_entry(people["student"], season, title="Первая")
    with pytest.raises(InvalidInput, match="не больше 1") as refused:
        make_entry(people["student"], season, title="Вторая")
    assert refused.value.field == "nomination_id"
    assert db.session.scalar(select(func.count(Entry.id))) == 1
    # The uploaded model of the refused entry stays pending for the student, not lost
    assert db.session.scalar(select(func.count(StoredFile.id)).where(StoredFile.owner_type.is_(None))) == 1
    # Another nomination is fine, and so is a second entry when the rules allow two
    make_entry(people["student"], season, nomination=1, title="Третья")
    seasons.update_season(db.session.merge(people["admin"]), season, season_data(2027, entries_per_nomination=2))
    make_entry(people["student"], season, title="Вторая")


def test_the_age_category_must_match_the_students_grade(app, people, ctx, season):
    student = db.session.merge(people["student"])  # 8th grade
    senior_category = next(c for c in season.age_categories if c.grade_from == 9)
    data = entries.EntryData(season.nominations[0].id, senior_category.id, "Модель", "Описание")
    with pytest.raises(InvalidInput, match="для 9–11 классов") as refused:
        entries.create_entry(student, season, data, entries.EntryFiles(model_key="x" * 32))
    assert refused.value.field == "age_category_id"


def test_supervisor_is_a_teacher_of_the_students_school(app, people, ctx, season):
    with pytest.raises(InvalidInput, match="Руководитель"):
        make_entry(people["student"], season, supervisor=people["teacher_b"])
    entry = make_entry(people["student"], season, supervisor=people["teacher"])
    # The supervisor counts as an author: may edit and submit
    assert workflow.is_author(db.session.merge(people["teacher"]), entry)
    options = entries.supervisor_options(db.session.merge(people["student"]), "кузн")
    assert [t.email for t in options] == ["teacher@example.ru"]


def test_teacher_makes_an_entry_for_a_student_of_their_school_only(app, people, ctx, season):
    entry = make_entry(people["student"], season, actor=people["teacher"])
    assert entry.author_id == people["student"].id and entry.supervisor_id == people["teacher"].id
    with pytest.raises(InvalidInput, match="своей организации"):
        make_entry(people["senior"], season, actor=people["teacher"])


def test_a_model_is_required(app, people, ctx, season):
    student = db.session.merge(people["student"])
    data = entries.EntryData(season.nominations[0].id, season.age_categories[0].id, "Модель", "Описание")
    with pytest.raises(InvalidInput) as refused:
        entries.create_entry(student, season, data, entries.EntryFiles())
    assert refused.value.field == "model"


# -- consents ---------------------------------------------------------------------------------------


def test_an_under_14_student_cannot_consent_alone(app, people, ctx, season):
    student = db.session.merge(people["student"])
    assert entries.needs_representative(student)
    entry = make_entry(people["student"], season, with_consent=False)
    with pytest.raises(InvalidInput, match="нет 14 лет"):
        entries.give_consent(student, entry, entries.ConsentData(True, True, "self"))
    with pytest.raises(InvalidInput, match="фамилию"):
        entries.give_consent(student, entry, entries.ConsentData(True, True, "parent", ""))
    assert not entry.consent_processing and entry.consents == []
    # Without consents the entry cannot be sent
    with pytest.raises(Conflict, match="согласия"):
        workflow.transition(student, entry, "submit")
    # A typed parent's name is not a consent: the parent's own e-mail is needed (or the paper form)
    with pytest.raises(InvalidInput, match="почты родителя"):
        entries.give_consent(student, entry, entries.ConsentData(True, True, "parent", "Волкова Ирина Сергеевна"))
    entries.give_consent(
        student, entry, entries.ConsentData(True, True, "parent", "Волкова Ирина Сергеевна", "volkova@example.ru")
    )
    assert not entry.consent_processing and entry.consents == []
    # The entry may be sent meanwhile, but not admitted until the parent confirms
    workflow.transition(student, entry, "submit")
    moderator = db.session.merge(people["moderator"])
    with pytest.raises(Conflict, match="не ответил"):
        workflow.transition(moderator, entry, "publish")
    parent_confirms(entry)
    records = db.session.scalars(select(ConsentRecord).where(ConsentRecord.entry_id == entry.id)).all()
    assert {(r.kind, r.given, r.giver, r.giver_name, r.recorded_by_id) for r in records} == {
        ("processing", True, "parent", "Волкова Ирина Сергеевна", None),
        ("publication", True, "parent", "Волкова Ирина Сергеевна", None),
    }
    assert all(r.recorded_at is not None for r in records)
    workflow.transition(moderator, entry, "publish")


def test_a_student_of_16_consents_herself(app, people, ctx, season):
    senior = db.session.merge(people["senior"])
    entry = make_entry(people["senior"], season, with_consent=False)
    entries.give_consent(senior, entry, entries.ConsentData(True, True, "self"))
    assert entry.consents_complete
    assert entry.consents[0].giver_name == senior.full_name


def test_withdrawing_consent_takes_an_admitted_entry_off_the_contest(app, people, year, client):
    with app.test_request_context():
        entry = make_entry(people["student"], seasons.season_by_year(year), "published", moderator=people["moderator"])
        entry_id, key, name = entry.id, entry.model_file.key, entry.model_file.original_name
    assert client.get(f"/contest/entries/{entry_id}").status_code == 200
    assert fetch_status(client, f"/files/{key}/{name}") == 200
    with app.test_request_context():
        entry = db.session.get(Entry, entry_id)
        entries.withdraw_consent(db.session.merge(people["student"]), entry, "publication")
        assert entry.status == Status.ARCHIVED and not entry.consent_publication
        # Audited as the student's action, with the reason
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unpublish"))
        assert audit.actor_id == people["student"].id and "согласие" in audit.comment
        # It cannot be readmitted until consent is given again
        with pytest.raises(Conflict, match="согласия"):
            workflow.transition(db.session.merge(people["moderator"]), entry, "republish")
    # Gone from the public site, its files too
    assert client.get(f"/contest/entries/{entry_id}").status_code == 404
    assert fetch_status(client, f"/files/{key}/{name}") == 404


def test_withdrawing_consent_of_a_submitted_entry_returns_it_to_drafts(app, people, ctx, season):
    entry = make_entry(people["student"], season, "submitted")
    entries.withdraw_consent(db.session.merge(people["moderator"]), entry, "processing")
    assert entry.status == Status.DRAFT
    with pytest.raises(PermissionDenied):
        entries.withdraw_consent(db.session.merge(people["senior"]), entry, "publication")


# -- the shared workflow ----------------------------------------------------------------------------


def test_moderators_admit_entries_with_the_contests_words(app, people, year, client, auth):
    with app.test_request_context():
        season = seasons.season_by_year(year)
        entry_id = make_entry(people["student"], season, "submitted", supervisor=people["teacher"]).id
    auth.login(people["moderator"])
    queue = client.get("/moderation/?type=entry").get_data(as_text=True)
    assert "Модель ракеты" in queue
    review = client.get(f"/moderation/entry/{entry_id}").get_data(as_text=True)
    assert "Допустить к конкурсу" in review and ">Опубликовать<" not in review
    token = csrf_token(client, f"/moderation/entry/{entry_id}")
    data = {"csrf_token": token, "expected_status": "submitted"}
    response = client.post(f"/workflow/entry/{entry_id}/publish", data=data, follow_redirects=True)
    # The moderator reads the contest's words too, not the general «Опубликовано»
    page = response.get_data(as_text=True)
    assert "Работа допущена к конкурсу: «Модель ракеты»." in page and "Опубликовано: «" not in page
    with app.app_context():
        # The student and the supervisor are told, in the contest's words
        # (besides the notice that the parent confirmed the consent)
        notes = db.session.scalars(select(Notification).where(~Notification.text.contains("согласие"))).all()
        assert {n.user_id for n in notes} == {people["student"].id, people["teacher"].id}
        assert all("допущена к конкурсу" in n.text for n in notes)
    # Admitted: in the season's gallery
    gallery = app.test_client().get(f"/contest/{year}/").get_data(as_text=True)
    assert "Модель ракеты" in gallery and "Артём В." in gallery


def test_action_labels_and_refusals_are_per_content_type(app):
    project = registry.get("project")
    entry = registry.get("entry")
    assert project.transition("publish").label == "Опубликовать"
    assert entry.transition("publish").label == "Допустить к конкурсу"
    assert "допущена" in entry.transition("publish").notice
    # Other attributes of the transition stay the shared ones
    assert entry.transition("reject").comment_required
    assert project.refused(None, object(), "submit") is None


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [(None, False), ("senior", False), ("juror", False), ("teacher", True), ("moderator", True), ("admin", True)],
)
def test_who_sees_a_draft_entry_and_its_files(app, people, year, client, auth, viewer, sees):
    with app.test_request_context():
        entry = make_entry(people["student"], seasons.season_by_year(year), supervisor=people["teacher"])
        entry_id, model = entry.id, entry.model_file
        key, name = model.key, model.original_name
    if viewer:
        auth.login(people[viewer])
    assert client.get(f"/contest/entries/{entry_id}").status_code == (200 if sees else 404)
    assert fetch_status(client, f"/files/{key}/{name}") == (200 if sees else 404)


def test_jurors_see_admitted_entries_of_their_nominations(app, people, ctx, season):
    entry = make_entry(people["student"], season, "submitted")
    juror = db.session.merge(people["juror"])
    seasons.assign_juror(db.session.merge(people["admin"]), season, season.nominations[0].id, juror.id)
    assert not workflow.can_view(juror, entry)
    workflow.transition(db.session.merge(people["moderator"]), entry, "publish")
    assert workflow.can_view(juror, entry)
    assert entries.is_assigned_juror(juror, entry)


# -- pages ------------------------------------------------------------------------------------------


def test_the_gallery_filters_follow_the_url_and_answer_htmx_with_a_fragment(app, people, year, client):
    with app.test_request_context():
        season = seasons.season_by_year(year)
        make_entry(people["student"], season, "published", people["moderator"], title="Ракета из Иркутска")
        make_entry(people["senior"], season, "published", people["moderator"], title="Мост в Братске", nomination=1)
        bratsk = organization(SCHOOL_B).municipality_id
        architecture = season.nominations[1].id
    # Without JavaScript: a plain GET with the filters as query parameters
    page = client.get(f"/contest/{year}/?municipality={bratsk}").get_data(as_text=True)
    assert "Мост в Братске" in page and "Ракета из Иркутска" not in page
    # With htmx: only the gallery block, varying on HX-Request
    response = client.get(f"/contest/{year}/?nomination={architecture}", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and "Мост в Братске" in fragment and "Ракета из Иркутска" not in fragment
    assert "HX-Request" in response.headers["Vary"]
    # Unknown values show everything rather than an error
    assert "Ракета из Иркутска" in client.get(f"/contest/{year}/?nomination=999999").get_data(as_text=True)


def test_the_viewer_pages_allow_exactly_the_viewers_stylesheet(app, people, year, client):
    import base64
    import hashlib
    from pathlib import Path

    from catalogue.contest.views import VIEWER_STYLE_HASH

    # The hash is of the one <style> in the vendored model-viewer
    bundle = (Path(app.static_folder) / "vendor/model-viewer/model-viewer-4.4.0.min.js").read_text(encoding="utf-8")
    (style,) = re.findall(r"<style>(.*?)</style>", bundle, re.S)
    assert "sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() == VIEWER_STYLE_HASH
    with app.test_request_context():
        entry = make_entry(people["student"], seasons.season_by_year(year), "published", people["moderator"])
        entry_id = entry.id
    response = client.get(f"/contest/entries/{entry_id}")
    assert f"'{VIEWER_STYLE_HASH}'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    assert VIEWER_STYLE_HASH not in client.get(f"/contest/{year}/").headers["Content-Security-Policy"]
    # A boosted navigation is told to load the page whole, scripts and CSP included
    boosted = client.get(f"/contest/entries/{entry_id}", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.headers["HX-Redirect"] == f"/contest/entries/{entry_id}"


def test_students_list_their_entries_and_find_supervisors(app, people, year, client, auth):
    with app.test_request_context():
        make_entry(people["student"], seasons.season_by_year(year), title="Моя первая модель")
    auth.login(people["student"])
    page = client.get("/contest/mine").get_data(as_text=True)
    assert "Моя первая модель" in page and "Черновик" in page
    options = client.get("/contest/supervisors?supervisor_query=кузн", headers={"HX-Request": "true"})
    text = options.get_data(as_text=True)
    assert "Кузнецова" in text and "<html" not in text
    assert "Без руководителя" in text
    auth.logout()
    auth.login(people["juror"])
    assert client.get("/contest/mine").status_code == 403

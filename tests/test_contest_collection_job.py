"""The season's collection is built by a background job and served as a file: a visitor never makes it render,
publishing the results queues a build, the file changes only when a build completes, and administrators start
builds («Собрать сборник», with CSRF) and see the jobs' state — on SQLite and PostgreSQL."""

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from catalogue.clock import utcnow
from catalogue.contest import collection, judging, results, seasons
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.jobs import run_pending
from catalogue.jobs.models import Job, JobState
from catalogue.media import storage
from catalogue.workflow import services as workflow
from tests.contest_support import SCHOOL_A, loaded, make_entry, make_season, organization, set_phase
from tests.helpers import csrf_token

URL = "/contest/2027/collection.pdf"


@pytest.fixture
def contest(app, make_user):
    """A season in its results phase: «Мост через Ангару» scored best, «Ледокол» below it, both admitted; «Аэростат»
    sent but not admitted yet. People by role."""
    with app.app_context():
        people = loaded(
            {
                "admin": make_user(roles=("admin",), email="admin@example.ru"),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "juror": make_user(roles=("jury",), email="juror@example.ru"),
                "teacher": make_user(roles=("teacher",), email="teacher@example.ru"),
                **{
                    name: make_user(roles=("student",), email=f"{name}@example.ru", organization=organization(SCHOOL_A))
                    for name in ("first", "second", "late")
                },
            }
        )
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        seasons.assign_juror(admin, season, season.nominations[0].id, people["juror"].id)
        first = make_entry(people["first"], season, "published", people["moderator"], title="Мост через Ангару")
        second = make_entry(people["second"], season, "published", people["moderator"], title="Ледокол")
        make_entry(people["late"], season, "submitted", title="Аэростат")
        set_phase(admin, season, "judging")
        juror = db.session.merge(people["juror"])
        judging.save_review(juror, first, {c.id: c.max_score for c in season.criteria})
        judging.save_review(juror, second, {c.id: 1 for c in season.criteria})
        set_phase(admin, season, "results")
        results.confirm_results(admin, season, {})
    return people


def _jobs() -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.kind == collection.KIND).order_by(Job.id)))


def _pdf_files(app) -> list[Path]:
    with app.app_context():
        store = storage.backend()
        return sorted(store.local_path(name) for name in store.names(collection.FOLDER) if name.endswith(".pdf"))


def _get(client, url: str = URL, **kw):
    with client.get(url, **kw) as response:
        response.get_data()
    return response


def _text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_before_the_first_build_a_visitor_is_told_it_is_being_prepared_and_nothing_renders(app, client, contest):
    response = _get(client)
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Сборник готовится" in page and "загляните сюда чуть позже" in page
    # Nothing was rendered in the request: no file, only a job in the queue
    assert _pdf_files(app) == []
    with app.app_context():
        assert [(j.state, j.attempts) for j in _jobs()] == [(JobState.QUEUED, 0)]
    # More visitors queue nothing more
    for _ in range(3):
        assert "Сборник готовится" in _get(client).get_data(as_text=True)
    with app.app_context():
        assert len(_jobs()) == 1
    assert "готовится" in _get(client, "/contest/2027/").get_data(as_text=True)
    # The worker builds it; from then on the file is served as a static file, with its build date
    with app.app_context():
        assert run_pending() == 1
    response = _get(client)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Last-Modified"] and response.headers["ETag"]
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Мост через Ангару" in _text(response.data)
    assert _get(client, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    season_page = _get(client, "/contest/2027/").get_data(as_text=True)
    assert "собран" in season_page and "готовится" not in season_page
    # The file lost (a backup restored without built PDFs, a new disk): the next visitor queues it again
    for made in _pdf_files(app):
        made.unlink()
    assert "Сборник готовится" in _get(client).get_data(as_text=True)
    with app.app_context():
        assert run_pending() == 1
    assert _get(client).mimetype == "application/pdf"


def test_builds_come_from_the_administrator_and_from_publishing_and_admitting_an_entry_changes_nothing(
    app, client, auth, contest
):
    auth.login("admin@example.ru")
    # «Собрать сборник» is refused without the CSRF token ...
    assert client.post("/contest/admin/2027/collection").status_code == 400
    with app.app_context():
        assert _jobs() == []
    # ... and queues one build with it, however often it is pressed
    token = csrf_token(client, "/contest/admin/2027/")
    for _ in range(2):
        asked = client.post("/contest/admin/2027/collection", data={"csrf_token": token}, follow_redirects=True)
        assert asked.status_code == 200
    assert "Сборник уже собирается" in asked.get_data(as_text=True)
    with app.app_context():
        assert [j.state for j in _jobs()] == [JobState.QUEUED]
        assert run_pending() == 1
    first = _get(client)
    text = _text(first.data)
    # Before the results: every admitted entry as a line of the catalogue, no awards
    assert "Все работы:" in text and text.count("Мост через Ангару") == 1 and "Победитель" not in text
    # An entry admitted afterwards invalidates nothing: the same file, no new job
    with app.test_request_context():
        entry = db.session.scalar(select(Entry).where(Entry.title == "Аэростат"))
        workflow.transition(db.session.merge(contest["moderator"]), entry, "publish")
    assert _get(client).data == first.data
    with app.app_context():
        assert len(_jobs()) == 1
    # Publishing the results queues a build; the published file stays until it completes
    token = csrf_token(client, "/contest/admin/2027/results")
    assert client.post("/contest/admin/2027/results/publish", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert [j.state for j in _jobs()] == [JobState.DONE, JobState.QUEUED]
    assert _get(client).data == first.data
    with app.app_context():
        assert run_pending() == 1
        assert _jobs()[-1].result["entries"] == 3
    text = _text(_get(client).data)
    # The winner's and the prize-winner's works in full (award, description), every admitted entry as a line
    assert "Победитель, 1 место" in text and "Призёр, 2 место" in text and "Модель сделана в Blender" in text
    assert text.count("Мост через Ангару") == 2 and text.count("Ледокол") == 2
    assert text.count("Аэростат") == 1 and "Работ в сборнике: 3" in text  # admitted after the awards: a line
    # Taking the results back queues a build without the awards
    token = csrf_token(client, "/contest/admin/2027/results")
    client.post("/contest/admin/2027/results/unpublish", data={"csrf_token": token})
    with app.app_context():
        assert _jobs()[-1].state == JobState.QUEUED
        run_pending()
    assert "Победитель" not in _text(_get(client).data)
    assert len(_pdf_files(app)) <= collection.KEEP


def test_administrators_see_the_build_and_every_job_and_nobody_else_does(app, client, auth, contest, make_user):
    with app.app_context():
        season = seasons.season_by_year(2027)
        db.session.add(
            Job(
                kind=collection.KIND,
                key=collection.key(season),
                state=JobState.FAILED,
                attempts=3,
                max_attempts=3,
                last_error="Попытка 3: OSError: No space left on device",
                finished_at=utcnow(),
            )
        )
        db.session.commit()
    # Not for a teacher, nor a visitor
    assert _get(client, "/admin/jobs/").status_code == 302
    auth.login("teacher@example.ru")
    assert _get(client, "/admin/jobs/").status_code in (403, 404)
    assert _get(client, "/contest/admin/2027/").status_code in (403, 404)
    token = csrf_token(client, "/")
    assert client.post("/contest/admin/2027/collection", data={"csrf_token": token}).status_code in (403, 404)
    auth.logout()
    # The administrator sees the failed build with its error, on the season's page and in the list
    auth.login("admin@example.ru")
    season_page = _get(client, "/contest/admin/2027/").get_data(as_text=True)
    assert "Сборник ещё не собран" in season_page
    assert "не удалось" in season_page and "No space left on device" in season_page
    listed = _get(client, "/admin/jobs/?state=failed").get_data(as_text=True)
    assert "contest.collection" in listed and "3 из 3" in listed and "No space left on device" in listed
    assert "Задач нет" in _get(client, "/admin/jobs/?state=running").get_data(as_text=True)
    # A key in the list is escaped like everything else
    with app.app_context():
        db.session.add(Job(kind="contest.collection", key="<script>alert(1)</script>", state=JobState.DONE))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Job)) == 2
    listed = _get(client, "/admin/jobs/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in listed and "&lt;script&gt;" in listed


def test_queueing_claiming_and_leasing_leave_the_page_cache_alone_and_a_completed_build_renews_it(app, contest):
    from catalogue.jobs import JobContext, queue
    from catalogue.page_cache import ContentGeneration

    def generation() -> int:
        value = db.session.scalar(select(ContentGeneration.value).where(ContentGeneration.id == 1)) or 0
        db.session.commit()
        return value

    with app.app_context():
        before = generation()
        collection.queue_build(seasons.season_by_year(2027))
        db.session.commit()
        item, token = queue.claim()
        assert JobContext(item.id, token, item.attempts, 60).heartbeat()
        assert generation() == before  # the visitors' cached pages stay
        # The worker that claimed it is gone; the next one completes the build
        item = queue.run_one(now=item.locked_until + dt.timedelta(seconds=1))
        assert item.state == JobState.DONE
        assert generation() == before + 1  # the pages that name the collection's file and date are made anew

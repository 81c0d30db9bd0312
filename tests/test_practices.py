"""Best practices: proposing, reviewing, revising a published practice, the catalogue and its pages."""

import re

import pytest
from sqlalchemy import func, select

from catalogue.extensions import db
from catalogue.permissions import Conflict, InvalidInput, NotFound
from catalogue.practices import diff
from catalogue.practices import services as practices
from catalogue.practices.data import PracticeData
from catalogue.practices.models import Practice, PracticeRevision
from catalogue.workflow import registry
from catalogue.workflow import services as workflow
from catalogue.workflow.models import AuditEntry, Status
from tests.helpers import csrf_token
from tests.test_practices_factories import (
    BRATSK_SCHOOL,
    IRKUTSK_SCHOOL,
    OLKHON_SCHOOL,
    adopt,
    counted_statements,
    form_fields,
    login,
    make_people,
    make_practice,
    organization,
    practice_data,
    practice_maker,
)


@pytest.fixture
def people(app, make_user):
    return make_people(app, make_user)


@pytest.fixture
def practice_in(app, people):
    return practice_maker(app, people)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def post_form(client, path: str, fields: dict, **headers):
    return client.post(path, data={**fields, "csrf_token": csrf_token(client, "/")}, headers=headers)


def act(client, type_key: str, item_id: int, action: str, comment: str = ""):
    data = {"csrf_token": csrf_token(client, "/"), "comment": comment}
    return client.post(f"/workflow/{type_key}/{item_id}/{action}", data=data)


def status_of(app, practice_id: int) -> str:
    with app.app_context():
        return db.session.get(Practice, practice_id).status


# -- proposing and reviewing ------------------------------------------------------------------------


def test_teacher_proposes_a_practice_and_it_stays_a_private_draft(app, client, people):
    login(client, people["teacher"])
    # The form opens with the teacher's school chosen
    page = client.get("/practices/new").get_data(as_text=True)
    with app.app_context():
        school_id = organization(IRKUTSK_SCHOOL).id
    assert re.search(rf'<option selected value="{school_id}">|<option value="{school_id}" selected', page)
    # She fills it in and saves
    response = post_form(client, "/practices/new", form_fields(app))
    assert response.status_code == 303
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.status == Status.DRAFT
        assert practice.roadmap_numbers == [6, 7]
        assert [s.title for s in practice.steps] == ["Найти гостя", "Провести встречу"]
        assert practice.municipality.name == "город Иркутск"
        url = f"/practices/{practice.id}-{practice.slug}"
    assert "Черновик" in client.get(url).get_data(as_text=True)
    # Nobody else sees the draft
    assert app.test_client().get(url).status_code == 404


def test_form_explains_mistakes_in_russian_and_keeps_what_was_typed(app, client, people):
    login(client, people["teacher"])
    fields = form_fields(app, roadmap_items=[], grade_from="10", grade_to="8", period_to="2020-01-01", results="")
    response = post_form(client, "/practices/new", fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Отметьте хотя бы один пункт дорожной карты." in page
    assert "Последний класс не может быть меньше первого." in page
    assert "Период заканчивается раньше, чем начинается." in page
    assert "Заполните это поле." in page
    # What was typed is still there
    assert 'value="Встречи с энергетиками"' in page
    assert "Среди родителей" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Practice.id))) == 0


def test_organization_must_come_from_the_list(app, client, people):
    login(client, people["teacher"])
    response = post_form(client, "/practices/new", form_fields(app, organization_id="999999"))
    assert response.status_code == 422
    assert "Выберите организацию из списка." in response.get_data(as_text=True)


def test_step_editor_adds_moves_and_removes_steps_without_javascript(app, client, people):
    login(client, people["teacher"])
    fields = form_fields(app)
    # «+ Добавить шаг»: a third, empty row; nothing is saved
    page = post_form(client, "/practices/new", {**fields, "step_action": "add"}).get_data(as_text=True)
    assert 'name="steps-2-title"' in page
    # «↓ Ниже» on the first step swaps it with the second
    page = post_form(client, "/practices/new", {**fields, "step_action": "down:0"}).get_data(as_text=True)
    assert page.index("Провести встречу") < page.index("Найти гостя")
    # «Удалить» the first
    page = post_form(client, "/practices/new", {**fields, "step_action": "remove:0"}).get_data(as_text=True)
    assert "Найти гостя" not in page and 'value="Провести встречу"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Practice.id))) == 0


def test_step_editor_answers_htmx_with_the_steps_fragment_only(app, client, people):
    login(client, people["teacher"])
    response = post_form(client, "/practices/new", {**form_fields(app), "step_action": "add"}, **{"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'name="steps-2-title"' in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_student_may_not_propose_a_practice(app, client, people):
    login(client, people["student"])
    assert client.get("/practices/new").status_code == 403
    assert post_form(client, "/practices/new", form_fields(app)).status_code == 403


def test_student_and_other_teachers_cannot_see_a_teachers_draft(app, practice_in, people):
    practice_id = practice_in("draft")
    for who in ("student", "bratsk"):
        client = app.test_client()
        login(client, people[who])
        assert client.get(f"/practices/{practice_id}", follow_redirects=True).status_code == 404
        assert client.get(f"/practices/{practice_id}/edit").status_code == 404
    # A moderator can look at it
    client = app.test_client()
    login(client, people["moderator"])
    assert client.get(f"/practices/{practice_id}", follow_redirects=True).status_code == 200


def test_submitted_practice_waits_in_the_shared_queue_and_a_moderator_publishes_it(app, client, practice_in, people):
    practice_id = practice_in("submitted")
    login(client, people["moderator"])
    queue = client.get("/moderation/").get_data(as_text=True)
    assert "Лучшая практика" in queue and f"/moderation/practice/{practice_id}" in queue
    review = client.get(f"/moderation/practice/{practice_id}").get_data(as_text=True)
    assert "Найти гостя" in review  # the preview shows the guide
    assert act(client, "practice", practice_id, "publish").status_code == 303
    assert status_of(app, practice_id) == Status.PUBLISHED
    # Now anyone sees it
    page = app.test_client().get(f"/practices/{practice_id}", follow_redirects=True)
    assert page.status_code == 200 and "Встречи с энергетиками" in page.get_data(as_text=True)


def test_teacher_cannot_publish_not_even_their_own(app, client, practice_in, people):
    practice_id = practice_in("submitted")
    login(client, people["teacher"])
    assert act(client, "practice", practice_id, "publish").status_code == 403
    assert status_of(app, practice_id) == Status.SUBMITTED


def test_moderator_does_not_publish_a_practice_of_their_own(app, people, ctx):
    practice = make_practice(people["moderator"], "submitted")
    moderator = db.session.merge(people["moderator"])
    # No button, and the action itself is refused with the reason
    assert [t.action for t in workflow.actions_for(moderator, practice)] == ["withdraw"]
    with pytest.raises(Conflict, match="другой модератор или администратор"):
        workflow.transition(moderator, practice, "publish")
    assert practice.status == Status.SUBMITTED
    # Another moderator publishes it
    workflow.transition(db.session.merge(people["moderator2"]), practice, "publish")
    assert practice.status == Status.PUBLISHED


def test_author_edits_a_draft_in_place(app, client, practice_in, people):
    practice_id = practice_in("draft")
    login(client, people["teacher"])
    form = client.get(f"/practices/{practice_id}/edit").get_data(as_text=True)
    assert "Редактирование практики" in form and 'value="Найти гостя"' in form
    response = post_form(client, f"/practices/{practice_id}/edit", form_fields(app, title="Встречи с инженерами"))
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Practice, practice_id).title == "Встречи с инженерами"
        assert db.session.scalar(select(func.count(PracticeRevision.id))) == 0


def test_practice_under_review_cannot_be_edited(app, client, practice_in, people):
    practice_id = practice_in("submitted")
    login(client, people["teacher"])
    response = client.get(f"/practices/{practice_id}/edit")
    assert response.status_code == 409
    assert "На проверке" in response.get_data(as_text=True)


# -- revisions of a published practice --------------------------------------------------------------


def test_public_sees_the_old_version_until_a_moderator_approves_the_revision(app, client, practice_in, people):
    practice_id = practice_in("published")
    visitor = app.test_client()
    url = f"/practices/{practice_id}"
    login(client, people["teacher"])
    # The author opens «Предложить правку»: the form of a revision
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Предложить правку" in page
    assert "Правка практики" in client.get(f"{url}/edit").get_data(as_text=True)
    # She changes the title and the results, with a word for the moderator
    fields = form_fields(
        app,
        title="Встречи с энергетиками и авиаторами",
        results="Участвовали 75 % обучающихся.",
        note="Обновили цифры за второй год.",
    )
    response = post_form(client, f"{url}/edit", fields)
    assert response.status_code == 303
    revision_url = response.headers["Location"]
    assert "/practices/revisions/" in revision_url
    with app.app_context():
        revision = db.session.scalar(select(PracticeRevision))
        revision_id = revision.id
        assert revision.status == Status.DRAFT
    # The public page still shows the published version
    public = visitor.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Встречи с энергетиками</h1>" in public and "авиаторами" not in public
    # She submits the revision; it waits in the shared queue
    assert act(client, "practice_revision", revision_id, "submit").status_code == 303
    assert "Вы предложили правку" in client.get(url, follow_redirects=True).get_data(as_text=True)
    moderator = app.test_client()
    login(moderator, people["moderator"])
    assert f"/moderation/practice_revision/{revision_id}" in moderator.get("/moderation/").get_data(as_text=True)
    # The moderator sees what changes, per field
    review = moderator.get(f"/moderation/practice_revision/{revision_id}").get_data(as_text=True)
    assert "Участвовали <del>60</del><ins>75</ins> %" in review
    assert "<ins> и авиаторами</ins>" in review
    assert "Обновили цифры за второй год." in review
    # ... while the public still sees the old version
    assert "авиаторами" not in visitor.get(url, follow_redirects=True).get_data(as_text=True)
    # The moderator publishes the revision: the practice changes, and shows the revision's date
    assert act(moderator, "practice_revision", revision_id, "publish").status_code == 303
    public = visitor.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Встречи с энергетиками и авиаторами</h1>" in public
    assert "Участвовали 75 % обучающихся." in public
    assert "редакция от" in public
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        assert practice.status == Status.PUBLISHED
        assert practice.revised_at is not None
        # History is kept: the revision remembers what it replaced
        revision = db.session.get(PracticeRevision, revision_id)
        assert revision.status == Status.PUBLISHED
        assert revision.previous["title"] == "Встречи с энергетиками"
        assert revision.data["title"] == "Встречи с энергетиками и авиаторами"
    # ... and the diff of an applied revision still reads old → new
    page = moderator.get(f"/practices/revisions/{revision_id}").get_data(as_text=True)
    assert "<ins> и авиаторами</ins>" in page


def test_revision_returned_for_changes_is_fixed_and_resubmitted_as_the_same_revision(app, people, ctx):
    practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
    teacher = db.session.merge(people["teacher"])
    moderator = db.session.merge(people["moderator"])
    revision = practices.revise_practice(teacher, practice, practice_data(participants=150))
    workflow.transition(teacher, revision, "submit")
    workflow.transition(moderator, revision, "request_changes", "Укажите и долю обучающихся.")
    assert workflow.latest_comment(revision).comment == "Укажите и долю обучающихся."
    # The author fixes it: the same revision, not a second one
    again = practices.revise_practice(teacher, practice, practice_data(participants=150, student_share=70))
    assert again.id == revision.id
    assert db.session.scalar(select(func.count(PracticeRevision.id))) == 1
    workflow.transition(teacher, again, "submit")
    workflow.transition(moderator, again, "publish")
    assert (practice.participants, practice.student_share) == (150, 70)


def test_only_one_open_revision_per_practice(app, people, ctx):
    practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
    practices.revise_practice(db.session.merge(people["teacher"]), practice, practice_data(participants=150))
    # A moderator fixing a typo at the same time is asked to wait
    with pytest.raises(Conflict):
        practices.revise_practice(db.session.merge(people["moderator"]), practice, practice_data(participants=151))


def test_revision_that_changes_nothing_is_refused(app, people, ctx):
    practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
    with pytest.raises(InvalidInput, match="Изменений нет"):
        practices.revise_practice(db.session.merge(people["teacher"]), practice, practice_data())


def test_only_the_author_or_a_moderator_revises_a_published_practice(app, client, practice_in, people):
    practice_id = practice_in("published")
    login(client, people["bratsk"])
    assert client.get(f"/practices/{practice_id}/edit").status_code == 403
    assert "Предложить правку" not in client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(
        as_text=True
    )


def test_rejected_revision_leaves_the_practice_as_it_was(app, people, ctx):
    practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
    teacher = db.session.merge(people["teacher"])
    revision = practices.revise_practice(teacher, practice, practice_data(title="Совсем другая практика"))
    workflow.transition(teacher, revision, "submit")
    workflow.transition(db.session.merge(people["moderator"]), revision, "reject", "Это другая практика.")
    assert practice.title == "Встречи с энергетиками"
    assert practice.revised_at is None
    # A new revision may be proposed after the decision
    assert practices.revise_practice(teacher, practice, practice_data(participants=200)).id != revision.id


def test_applied_revision_cannot_be_unpublished_or_applied_twice(app, people, ctx):
    practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
    teacher, moderator = db.session.merge(people["teacher"]), db.session.merge(people["moderator"])
    revision = practices.revise_practice(teacher, practice, practice_data(participants=150))
    workflow.transition(teacher, revision, "submit")
    workflow.transition(moderator, revision, "publish")
    assert workflow.actions_for(moderator, revision) == []
    with pytest.raises(NotFound):
        workflow.transition(moderator, revision, "unpublish", "Нет.")


def test_student_cannot_open_a_revision(app, client, people):
    with app.test_request_context():
        practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
        revision_id = practices.revise_practice(
            db.session.merge(people["teacher"]), practice, practice_data(participants=5)
        ).id
    login(client, people["student"])
    assert client.get(f"/practices/revisions/{revision_id}").status_code == 404
    assert client.get(f"/moderation/practice_revision/{revision_id}").status_code == 404


# -- the workflow's on_published hook ---------------------------------------------------------------


def test_on_published_hooks_run_on_publish_and_republish_and_a_failing_one_undoes_the_transition(app, people, ctx):
    practice_type = registry.get("practice")
    seen = []

    def remember(obj):
        seen.append(obj.status)

    practice_type.on_published.append(remember)
    try:
        practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
        moderator = db.session.merge(people["moderator"])
        workflow.transition(moderator, practice, "unpublish", "Проверка.")
        workflow.transition(moderator, practice, "republish")
        # Called for publish and republish only, with the item already published
        assert seen == [Status.PUBLISHED, Status.PUBLISHED]
    finally:
        practice_type.on_published.remove(remember)

    def boom(obj):
        raise InvalidInput("Нельзя.")

    practice_type.on_published.append(boom)
    try:
        other = make_practice(people["teacher"], "submitted", title="Вторая практика")
        audits_before = db.session.scalar(select(func.count(AuditEntry.id)))
        with pytest.raises(InvalidInput):
            workflow.transition(db.session.merge(people["moderator"]), other, "publish")
        # Nothing half-done: the state, the audit
        assert db.session.get(Practice, other.id).status == Status.SUBMITTED
        assert db.session.scalar(select(func.count(AuditEntry.id))) == audits_before
    finally:
        practice_type.on_published.remove(boom)


# -- the diff ---------------------------------------------------------------------------------------


def test_diff_marks_words_and_escapes_html():
    html = str(diff.diff_html("Было <b>60</b> участников", "Было <i>75</i> участников"))
    assert "<b>" not in html and "<i>" not in html
    assert "<del>&lt;b&gt;60&lt;/b&gt;</del><ins>&lt;i&gt;75&lt;/i&gt;</ins>" in html
    assert html.startswith("Было ") and html.endswith(" участников")
    # Line breaks survive as <br>
    assert "<br>" in str(diff.diff_html("строка\nвторая", "строка\nтретья"))


def test_changes_list_only_changed_fields_with_readable_names(app, ctx):
    old = practice_data()
    new = practice_data(
        organization=BRATSK_SCHOOL,
        roadmap_items=[6, 7],
        steps=[*old.steps, practices.StepData("Подвести итоги")],
    )
    changes = {c.key: c for c in diff.changes(old, new)}
    assert set(changes) == {"organization", "roadmap", "steps"}
    # A single value is shown replaced whole; texts and lists word by word
    assert str(changes["organization"].html) == (
        "<del>МБОУ г. Иркутска СОШ № 19 (город Иркутск)</del> <ins>МБОУ «СОШ № 12» г. Братска (город Братск)</ins>"
    )
    assert "<ins>" in str(changes["roadmap"].html) and "Экскурсии на предприятия" in str(changes["roadmap"].html)
    assert changes["steps"].label == "Как повторить: шаги"
    assert "<ins>" in str(changes["steps"].html) and "Подвести итоги" in str(changes["steps"].html)


def test_practice_data_survives_a_round_trip_through_json(app, ctx):
    data = practice_data(period_to=None).normalized()
    assert PracticeData.from_json(data.to_json()) == data


# -- the catalogue ----------------------------------------------------------------------------------


def test_catalogue_filters_by_roadmap_item_municipality_grade_and_sphere(app, client, practice_in):
    practice_in(title="Экскурсии на ГЭС", roadmap_items=[7], spheres=["energy"], grade_from=8, grade_to=9)
    practice_in(title="Профпробы в колледже", roadmap_items=[5], spheres=["it"], grade_from=10, grade_to=11)
    practice_in(title="Смена на Ольхоне", organization=OLKHON_SCHOOL, roadmap_items=[10], spheres=["ecology"])
    practice_in("draft", title="Черновик про экскурсии", roadmap_items=[7])

    def titles(query: str) -> set[str]:
        page = client.get(f"/practices/{query}").get_data(as_text=True)
        return set(re.findall(r'<h3><a href="[^"]+">([^<]+)</a>', page))

    assert titles("") == {"Экскурсии на ГЭС", "Профпробы в колледже", "Смена на Ольхоне"}
    assert titles("?item=7") == {"Экскурсии на ГЭС"}
    with app.app_context():
        olkhon = organization(OLKHON_SCHOOL).municipality_id
    assert titles(f"?municipality={olkhon}") == {"Смена на Ольхоне"}
    assert titles("?grade=10") == {"Профпробы в колледже", "Смена на Ольхоне"}
    assert titles("?sphere=it") == {"Профпробы в колледже"}
    assert titles("?item=7&grade=11") == set()
    # Values that are not in the lists show everything instead of an error
    assert len(titles("?item=99&grade=abc&sphere=nope")) == 3


def test_catalogue_sorts_by_most_replicated(app, client, practice_in, people):
    first = practice_in(title="Практика без отметок")
    second = practice_in(title="Практика, которую внедрили")
    with app.test_request_context():
        adopt(people["bratsk"], db.session.get(Practice, second))
    page = client.get("/practices/?sort=adopted").get_data(as_text=True)
    assert page.index("Практика, которую внедрили") < page.index("Практика без отметок")
    assert "Внедрили: 1 организация" in page
    # Newest first by default
    page = client.get("/practices/").get_data(as_text=True)
    assert first < second and page.index("Практика, которую внедрили") < page.index("Практика без отметок")


def test_catalogue_pages(app, client, people):
    with app.test_request_context():
        for n in range(practices.PER_PAGE + 2):
            make_practice(people["moderator"], "published", title=f"Практика номер {n + 1:02d}")
    first = client.get("/practices/").get_data(as_text=True)
    assert "14 практик" in first and "Практика номер 14" in first and "Практика номер 02" not in first
    second = client.get("/practices/?page=2").get_data(as_text=True)
    assert "Практика номер 02" in second and "Практика номер 01" in second and "Практика номер 14" not in second


def test_filters_answer_htmx_with_the_results_fragment_and_vary(app, client, practice_in):
    practice_in(title="Экскурсии на ГЭС", roadmap_items=[7])
    response = client.get("/practices/?item=7", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and "<form" not in body and "Экскурсии на ГЭС" in body
    assert "HX-Request" in response.headers["Vary"]
    # A boosted navigation or a plain request gets the whole page, with the filter form
    full = client.get("/practices/?item=7").get_data(as_text=True)
    assert "<html" in full and 'hx-push-url="true"' in full and "HX-Request" in response.headers["Vary"]


def test_practice_page_is_laid_out_for_repeating_it(app, client, practice_in):
    practice_id = practice_in()
    # The short address redirects to the one with the slug
    assert client.get(f"/practices/{practice_id}").status_code == 301
    page = client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    for heading in ("Результаты и эффекты", "Что понадобится", "Как повторить: шаг за шагом", "Контакты"):
        assert heading in page
    assert "120 человек" in page and "60 % обучающихся организации" in page
    assert "с 1 сентября 2024 по настоящее время" in page
    assert "6. Встречи с представителями профессий" in page
    assert page.index("Найти гостя") < page.index("Провести встречу")


def test_list_and_page_take_a_constant_number_of_queries(app, people):
    def make(n: int, adoptions: int) -> int:
        with app.test_request_context():
            practice = None
            for i in range(n):
                practice = make_practice(
                    people["moderator"],
                    "published",
                    title=f"Практика {i}",
                    spheres=["energy", "it"],
                    roadmap_items=[5, 6],
                )
            for teacher in ("bratsk", "angarsk")[:adoptions]:
                adopt(people[teacher], practice)
            return practice.id

    def count(url: str) -> int:
        client = app.test_client()
        with app.app_context():
            engine = db.engine
        with counted_statements(engine) as statements:
            assert client.get(url, follow_redirects=True).status_code == 200
        return len(statements)

    few = make(3, adoptions=0)
    list_few, page_few = count("/practices/"), count(f"/practices/{few}")
    many = make(12, adoptions=2)
    assert count("/practices/") == list_few
    assert count("/practices/?sort=adopted") == list_few
    assert count(f"/practices/{many}") == page_few


def test_a_practice_is_searchable_with_its_facets(app, people, ctx):
    from catalogue.search import registry as search

    practice = make_practice(people["moderator"], "published", grade_from=9, grade_to=11, spheres=["energy", "it"])
    document = search.get("practice").to_document(practice)
    assert document.title == "Встречи с энергетиками"
    assert "Найти гостя" in document.text and "Встречи с представителями профессий" in document.text
    assert document.age_groups == ["8-9", "10-11"]
    assert sorted(document.spheres) == ["energy", "it"]
    assert document.municipality == str(practice.municipality_id)


def test_a_moderators_revision_is_shown_to_the_practices_author_who_is_told_of_the_decision(app, client, people):
    from catalogue.workflow.models import Notification

    with app.test_request_context():
        practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
        moderator = db.session.merge(people["moderator"])
        revision = practices.revise_practice(moderator, practice, practice_data(contacts="new@example.ru"))
        workflow.transition(moderator, revision, "submit")
        workflow.transition(db.session.merge(people["moderator2"]), revision, "publish")  # four eyes
        revision_id = revision.id
        notes = db.session.scalars(select(Notification.text).where(Notification.user_id == people["teacher"].id))
        assert any("(правка)» опубликовано" in text for text in notes)
    login(client, people["teacher"])
    page = client.get(f"/practices/revisions/{revision_id}").get_data(as_text=True)
    assert "<del>school@example.ru</del><ins>new@example.ru</ins>" in page
    other = app.test_client()
    login(other, people["bratsk"])
    assert other.get(f"/practices/revisions/{revision_id}").status_code == 404

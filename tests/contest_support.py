"""Contest content for the tests, made through the real services (seasons, entries, reviews)."""

import datetime as dt

from sqlalchemy import select

from catalogue.contest import entries, parental, seasons
from catalogue.contest.models import Season, contest_today
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media.validation import validate_upload
from catalogue.taxonomy.models import Organization
from catalogue.workflow import services as workflow
from tests.helpers import fixture_bytes

SCHOOL_A = "МБОУ г. Иркутска СОШ № 19"
SCHOOL_B = "МБОУ «СОШ № 12» г. Братска"
UNIVERSITY = "Иркутский национальный исследовательский технический университет"


def fetch_status(client, url: str) -> int:
    """GET ``url`` and close the response (file responses stream: unclosed ones leak file handles)."""
    response = client.get(url)
    response.close()
    return response.status_code


def loaded(people: dict) -> dict:
    """Users made in one app context, refreshed so that they stay readable once it ends (detached)."""
    for user in people.values():
        db.session.refresh(user)
    return people


def organization(name: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.name == name))


def phase_dates(phase: str, today: dt.date | None = None) -> dict:
    """Season dates that put today in ``phase``: announced, accepting, judging, results."""
    today = today or contest_today()
    day = dt.timedelta(days=1)
    starts = {"announced": 5, "accepting": -5, "judging": -30, "results": -60}[phase]
    opens = today + starts * day
    closes = opens + 10 * day if phase != "judging" else today - day
    judging_opens = closes if phase != "judging" else today - day
    judging_closes = judging_opens + 10 * day if phase != "results" else today - 10 * day
    if phase == "results":
        closes, judging_opens = today - 40 * day, today - 30 * day
    return {
        "submission_opens": opens,
        "submission_closes": closes,
        "judging_opens": judging_opens,
        "judging_closes": judging_closes,
        "results_date": judging_closes + day,
    }


def season_data(year: int = 2027, phase: str = "accepting", **overrides) -> seasons.SeasonData:
    data = {"year": year, "title": f"СоЗДатель-{year}", "rules": "Положение о конкурсе.", **phase_dates(phase)}
    data.update(overrides)
    return seasons.SeasonData(**data)


def make_season(admin, year: int = 2027, phase: str = "accepting", **overrides) -> Season:
    """A season with two nominations, categories 6–8 and 9–11, two criteria (0–10 ×1.5, 0–5 ×1)."""
    admin = db.session.merge(admin)
    season = seasons.create_season(admin, season_data(year, phase, **overrides))
    for name in ("Техника будущего", "Архитектура"):
        seasons.save_nomination(admin, season, None, seasons.NominationData(name, ""))
    seasons.save_age_category(admin, season, None, seasons.AgeCategoryData("6–8 классы", 6, 8))
    seasons.save_age_category(admin, season, None, seasons.AgeCategoryData("9–11 классы", 9, 11))
    seasons.save_criterion(admin, season, None, seasons.CriterionData("Сложность модели", 10, 1.5))
    seasons.save_criterion(admin, season, None, seasons.CriterionData("Оригинальность", 5, 1.0))
    return season


def set_phase(admin, season: Season, phase: str) -> Season:
    """Move the season's dates so that today falls into ``phase`` (time passes in the tests this way)."""
    data = season_data(season.year, phase, title=season.title, blind_judging=season.blind_judging)
    return seasons.update_season(db.session.merge(admin), season, data)


def stored_model(user, name: str = "20mm-xyz-cube.stl"):
    """A pending upload of a real model by ``user``."""
    return media.store_upload(db.session.merge(user), validate_upload("model", name, fixture_bytes(name)))


PARENT_EMAIL = "ivanova.mp@example.ru"


def consent(giver: str = "parent", name: str = "Иванова Мария Петровна", **kw) -> entries.ConsentData:
    """Consents given in the form; under 14 the parent is asked at ``PARENT_EMAIL`` unless told otherwise."""
    return entries.ConsentData(
        processing=True, publication=True, giver=giver, giver_name=name, parent_email=kw.get("email", PARENT_EMAIL),
        paper=kw.get("paper", False),
    )  # fmt: skip


def parent_confirms(entry, address: str = "203.0.113.7"):
    """The parent follows the link of their letter and confirms (the real one-time link)."""
    request = parental.open_request(entry)
    return parental.decide(parental.make_token(request), True, address)


def make_entry(
    student,
    season: Season,
    state: str = "draft",
    moderator=None,
    nomination: int = 0,
    title: str = "Модель ракеты",
    model: str = "20mm-xyz-cube.stl",
    with_consent: bool = True,
    supervisor=None,
    actor=None,
):
    """An entry of ``student`` in ``season`` brought to ``state`` (draft, submitted, published).

    Made by ``actor`` (a teacher) it is accepted by the student before it is sent; under 14 the parent
    confirms the consent by the link of the letter.
    """
    student = db.session.merge(student)
    actor = db.session.merge(actor) if actor is not None else student
    category = next(c for c in season.age_categories if c.includes_grade(student.grade))
    entry = entries.create_entry(
        actor,
        season,
        entries.EntryData(
            nomination_id=season.nominations[nomination].id,
            age_category_id=category.id,
            title=title,
            description="Модель сделана в Blender и напечатана на школьном принтере.",
            software="Blender",
            supervisor_id=supervisor.id if supervisor is not None else None,
        ),
        entries.EntryFiles(model_key=stored_model(actor, model).key),
        consent() if with_consent else None,
        student_id=student.id,
    )
    if with_consent and parental.open_request(entry) is not None:
        parent_confirms(entry)
    if state in ("submitted", "published"):
        if entry.accepted_at is None:
            entries.answer_proposal(student, entry, accept=True)
        workflow.transition(student, entry, "submit")
    if state == "published":
        workflow.transition(db.session.merge(moderator), entry, "publish")
    return entry


def years_ago(years: int) -> dt.date:
    """A birth date about ``years`` years ago (a month short of the birthday)."""
    today = dt.date.today()
    return today.replace(year=today.year - years) - dt.timedelta(days=30)

"""Loading the demo contest through the same services people use: a finished season with results and
an open one. Idempotent: people by e-mail, seasons by year, entries by title within their season.

The finished season is walked through its phases as they happen: created open for entries, then its
dates moved on for the jury, then to the past for the results (the services check the dates).
"""

import datetime as dt
import hashlib

from flask import current_app
from sqlalchemy import select

from catalogue.accounts.models import Role, User
from catalogue.accounts.services import create_user
from catalogue.contest import entries, judging, parental, results, seasons
from catalogue.contest.models import Entry, Season, contest_today
from catalogue.demo.contest_data import (
    CATEGORIES,
    CRITERIA,
    ENTRIES,
    JURY,
    NOMINATIONS,
    OPEN_ENTRIES,
    PEOPLE,
    RULES,
)
from catalogue.demo.contest_models import model_bytes
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media.validation import validate_upload
from catalogue.taxonomy.models import Organization
from catalogue.workflow import services as workflow

PARENTS = {
    "student@demo.example": "Иванова Светлана Петровна",
    "student3@demo.example": "Смирнов Андрей Викторович",
    "student6@demo.example": "Орлова Ирина Геннадьевна",
    "student7@demo.example": "Захаров Денис Олегович",
}


def seed_contest(password: str) -> int:
    """Add the demo people, seasons and entries that are missing; returns how many entries were added."""
    _seed_people(password)
    users = {u.email: u for u in db.session.scalars(select(User))}
    admin = db.session.scalar(select(User).where(User.role_rows.any(role=Role.ADMIN)).order_by(User.id))
    moderator = db.session.scalar(select(User).where(User.role_rows.any(role=Role.MODERATOR)).order_by(User.id))
    today = contest_today()
    open_year = (today + dt.timedelta(days=90)).year
    added = _finished_season(admin, moderator, users, open_year - 1, today)
    added += _open_season(admin, moderator, users, open_year, today)
    return added


def _seed_people(password: str) -> None:
    existing = set(db.session.scalars(select(User.email)))
    for email, last, first, middle, roles, org_name, grade, born in PEOPLE:
        if email in existing:
            continue
        organization = db.session.scalar(select(Organization).where(Organization.name == org_name))
        create_user(email, password, last, first, roles, middle_name=middle, organization=organization,
                    grade=grade, birth_date=born)  # fmt: skip
    db.session.commit()


def _dates(year: int, opens: dt.date, closes: dt.date, judging_from: dt.date, judging_to: dt.date, results_on):
    return seasons.SeasonData(
        year=year,
        title=f"СоЗДатель-{year}",
        rules=RULES,
        submission_opens=opens,
        submission_closes=closes,
        judging_opens=judging_from,
        judging_closes=judging_to,
        results_date=results_on,
    )


def _season(admin: User, data: seasons.SeasonData, users: dict[str, User]) -> tuple[Season, bool]:
    """The season of ``data.year``, made with its nominations, categories, criteria and jury if missing."""
    existing = db.session.scalar(select(Season).where(Season.year == data.year))
    if existing is not None:
        return existing, False
    season = seasons.create_season(admin, data)
    for name, description in NOMINATIONS:
        seasons.save_nomination(admin, season, None, seasons.NominationData(name, description))
    for name, grade_from, grade_to in CATEGORIES:
        seasons.save_age_category(admin, season, None, seasons.AgeCategoryData(name, grade_from, grade_to))
    for name, description, max_score, weight in CRITERIA:
        seasons.save_criterion(admin, season, None, seasons.CriterionData(name, max_score, weight, description))
    for email, positions in JURY.items():
        for position in positions:
            seasons.assign_juror(admin, season, season.nominations[position].id, users[email].id)
    return season, True


def _entry(season: Season, users: dict[str, User], spec: tuple) -> Entry:
    title, email, nomination, model, software, _quality_or_state, supervisor, description = spec
    student = users[email]
    name, data = model_bytes(model)
    stored = media.store_upload(student, validate_upload("model", name, data))
    category = next(c for c in season.age_categories if c.includes_grade(student.grade))
    parent = PARENTS.get(email)
    consent = entries.ConsentData(
        processing=True,
        publication=True,
        giver="parent" if parent or entries.needs_representative(student) else "self",
        giver_name=parent or "",
    )
    if consent.giver == "parent" and not consent.giver_name:
        consent.giver_name = f"{student.last_name} (родитель)"
    # Under 14 the parent confirms by the link of the letter (written to instance/mail/ in development).
    consent.parent_email = f"parent.{email.split('@')[0]}@demo.example"
    entry = entries.create_entry(
        student,
        season,
        entries.EntryData(
            nomination_id=season.nominations[nomination].id,
            age_category_id=category.id,
            title=title,
            description=description,
            software=software,
            supervisor_id=users[supervisor].id if supervisor else None,
        ),
        entries.EntryFiles(model_key=stored.key),
        consent,
    )
    waiting = parental.open_request(entry)
    if waiting is not None:
        parental.decide(parental.make_token(waiting), True, "127.0.0.1")
    return entry


def _score(quality: int, juror_email: str, criterion_index: int, max_score: int) -> int:
    """A believable score: the entry's quality, a juror's own leaning, and a little noise (deterministic)."""
    noise = hashlib.sha256(f"{quality}:{juror_email}:{criterion_index}".encode()).digest()[0] % 3 - 1
    value = round(quality * max_score / 10) + noise
    return max(0, min(max_score, value))


def _finished_season(admin, moderator, users, year: int, today: dt.date) -> int:
    day = dt.timedelta(days=1)
    season, _created = _season(
        admin, _dates(year, today - 10 * day, today + 10 * day, today + 11 * day, today + 20 * day, today + 30 * day),
        users,
    )  # fmt: skip
    if season.results_published:
        return 0
    have = set(db.session.scalars(select(Entry.title).where(Entry.season_id == season.id)))
    added = 0
    if season.is_accepting():
        for spec in ENTRIES:
            if spec[0] in have:
                continue
            entry = _entry(season, users, spec)
            workflow.transition(users[spec[1]], entry, "submit")
            workflow.transition(moderator, entry, "publish")
            added += 1
    # The jury's weeks: submission closed yesterday, judging open today.
    seasons.update_season(
        admin, season, _dates(year, today - 30 * day, today - day, today - day, today + 5 * day, today + 10 * day)
    )
    quality = {spec[0]: spec[5] for spec in ENTRIES}
    for email in JURY:
        juror = users[email]
        for item in judging.items_for(juror, season):
            if item.conflict or item.scored or item.entry.title not in quality:
                continue
            scores = {
                c.id: _score(quality[item.entry.title], email, i, c.max_score) for i, c in enumerate(season.criteria)
            }
            judging.save_review(juror, item.entry, scores, "")
    # The season as it happened: all in the past, results announced.
    seasons.update_season(
        admin,
        season,
        _dates(year, today - 240 * day, today - 180 * day, today - 179 * day, today - 150 * day, today - 140 * day),
    )
    results.confirm_results(admin, season, {})
    results.publish_results(admin, season)
    _backdate_season(season)
    current_app.logger.info("demo contest season %s: %s entries added", year, added)
    return added


def _backdate_season(season) -> None:
    """The finished season's entries admitted within its window, its results announced on its date."""
    from catalogue.demo import at_noon, backdate

    window = (season.submission_closes - season.submission_opens).days
    admitted = entries.published_entries(season)
    for n, entry in enumerate(sorted(admitted, key=lambda e: e.id)):
        backdate(
            entries.OWNER,
            entry,
            at_noon(season.submission_opens + dt.timedelta(days=3 + n * (window - 6) // len(admitted))),
        )
    season.results_confirmed_at = at_noon(season.results_date) - dt.timedelta(days=1)
    season.results_published_at = at_noon(season.results_date)
    db.session.commit()


def _open_season(admin, moderator, users, year: int, today: dt.date) -> int:
    day = dt.timedelta(days=1)
    season, _created = _season(
        admin, _dates(year, today - 10 * day, today + 60 * day, today + 61 * day, today + 80 * day, today + 90 * day),
        users,
    )  # fmt: skip
    if not season.is_accepting():
        return 0
    have = set(db.session.scalars(select(Entry.title).where(Entry.season_id == season.id)))
    added = 0
    for spec in OPEN_ENTRIES:
        if spec[0] in have:
            continue
        entry = _entry(season, users, spec)
        state = spec[5]
        if state in ("submitted", "published"):
            workflow.transition(users[spec[1]], entry, "submit")
        if state == "published":
            workflow.transition(moderator, entry, "publish")
        added += 1
    return added

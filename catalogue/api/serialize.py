"""What the API shows of each published item: the public pages' facts, never personal data.

Authors who are students appear as on the public pages («Имя Ф.»); teachers too, since a visitor sees them so;
no e-mails, birth dates, middle names or user ids. The items of a page come with their stages, steps and authors
in one query each, whatever the page's length.
"""

from collections import defaultdict

from sqlalchemy import select

from catalogue.accounts.models import User
from catalogue.contest.models import Entry, Season
from catalogue.extensions import db
from catalogue.practices.models import Practice, PracticeStep
from catalogue.practices.roadmap import BY_NUMBER
from catalogue.projects.models import Project, ProjectReport, ProjectStage
from catalogue.urls import external_url


def moment(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def day(value) -> str | None:
    return value.isoformat() if value else None


def short_names(user_ids) -> dict[int, str]:
    """«Имя Ф.» of each user, in one query of two columns."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.first_name, User.last_name).where(User.id.in_(ids)))
    return {i: f"{first}{f' {last[:1]}.' if last else ''}" for i, first, last in rows}


def term(item) -> dict:
    return {"slug": item.slug, "name": item.name}


def organization(org) -> dict | None:
    if org is None:
        return None
    return {"name": org.name, "municipality": {"id": org.municipality.id, "name": org.municipality.name}}


def _children(model, parent_column, ids) -> dict[int, list]:
    grouped = defaultdict(list)
    if ids:
        for child in db.session.scalars(select(model).where(parent_column.in_(ids)).order_by(model.position)):
            grouped[getattr(child, parent_column.key)].append(child)
    return grouped


def projects(items: list[Project]) -> list[dict]:
    stages = _children(ProjectStage, ProjectStage.project_id, [p.id for p in items])
    names = short_names(p.author_id for p in items)
    return [
        {
            "id": p.id,
            "title": p.title,
            "url": external_url("projects.detail", project_id=p.id, slug=p.slug),
            "summary": p.summary,
            "goal": p.goal,
            "expected_results": p.expected_results,
            "resources": p.resources,
            "format": {"slug": p.format, "name": p.format_label},
            "duration_weeks": p.duration_weeks,
            "age_groups": [term(g) for g in p.age_groups],
            "spheres": [term(s) for s in p.spheres],
            "author": names.get(p.author_id) if p.organization else None,
            "organization": organization(p.organization),
            "published_at": moment(p.published_at),
            "stages": [{"title": s.title, "description": s.description} for s in stages[p.id]],
        }
        for p in items
    ]


def practices(items: list[Practice]) -> list[dict]:
    steps = _children(PracticeStep, PracticeStep.practice_id, [p.id for p in items])
    return [
        {
            "id": p.id,
            "title": p.title,
            "url": external_url("practices.detail", practice_id=p.id, slug=p.slug),
            "summary": p.summary,
            "description": p.description,
            "organization": organization(p.organization),
            "municipality": {"id": p.municipality.id, "name": p.municipality.name},
            "roadmap_items": [
                {"number": r.item, "title": BY_NUMBER[r.item].title} for r in p.roadmap_rows if r.item in BY_NUMBER
            ],
            "grade_from": p.grade_from,
            "grade_to": p.grade_to,
            "spheres": [term(s) for s in p.spheres],
            "participants": p.participants,
            "student_share": p.student_share,
            "period_from": day(p.period_from),
            "period_to": day(p.period_to),
            "results": p.results,
            "resources": p.resources,
            "contacts": p.contacts,
            "adoption_count": p.adoption_count,
            "published_at": moment(p.published_at),
            "steps": [{"title": s.title, "description": s.description} for s in steps[p.id]],
        }
        for p in items
    ]


def reports(items: list[ProjectReport]) -> list[dict]:
    return [
        {
            "id": r.id,
            "title": r.title,
            "url": external_url("projects.report", report_id=r.id),
            "project": {"id": r.project_id, "title": r.project.title},
            "organization": organization(r.organization),
            "class_name": r.class_name,
            "grade": r.grade,
            "started_on": day(r.started_on),
            "finished_on": day(r.finished_on),
            "participants": r.participants,
            "body": r.body,
            "results": r.results,
            "published_at": moment(r.published_at),
        }
        for r in items
    ]


def season(s: Season) -> dict:
    return {
        "year": s.year,
        "title": s.title,
        "url": external_url("contest.season", year=s.year),
        "submission_opens": day(s.submission_opens),
        "submission_closes": day(s.submission_closes),
        "judging_opens": day(s.judging_opens),
        "judging_closes": day(s.judging_closes),
        "results_date": day(s.results_date),
        "results_published": s.results_published,
        "nominations": [{"id": n.id, "name": n.name, "description": n.description} for n in s.nominations],
        "age_categories": [
            {"id": c.id, "name": c.name, "grade_from": c.grade_from, "grade_to": c.grade_to} for c in s.age_categories
        ],
    }


def entries(items: list[Entry]) -> list[dict]:
    """Admitted entries as the gallery shows them: the author «Имя Ф.» with the grade unless judging is blind;
    the award and place once the season's results are published."""
    result = []
    for e in items:
        shown = not e.season.authors_hidden
        published = e.season.results_published
        result.append(
            {
                "id": e.id,
                "title": e.title,
                "url": external_url("contest.entry", entry_id=e.id),
                "season": e.season.year,
                "nomination": {"id": e.nomination.id, "name": e.nomination.name},
                "age_category": {"id": e.age_category.id, "name": e.age_category.name},
                "description": e.description,
                "software": e.software,
                "author": (e.author.short_name if e.author.is_student else _adult(e.author)) if shown else None,
                "grade": e.grade if shown else None,
                "organization": organization(e.organization) if shown else None,
                "municipality": e.municipality_name or None,
                "award": e.award if published and e.award else None,
                "award_label": e.award_label if published and e.award else None,
                "place": e.rank if published and e.award and e.award != "participant" else None,
            }
        )
    return result


def _adult(user: User) -> str:
    """An adult author's name without the middle name."""
    return " ".join(p for p in (user.last_name, user.first_name) if p)

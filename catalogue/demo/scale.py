"""A large data set for measuring speed (``flask --app catalogue demo-scale``), not for showing the site.

On top of the demo content (loaded first, ``seed-demo``): thousands of students and teachers in the seeded schools,
published typical projects with age groups, spheres and stages, published practices with roadmap items and steps,
and contest entries in the demo seasons — in the finished season with the jurors' reviews and scores, totals, ranks
and awards, in the open one admitted to its gallery. Rows are written with bulk ``INSERT``s in batches (ids given
here, so children need no round trip), then the search index is rebuilt. Everything is published as it is, without
the workflow's transitions, audit rows or notices: that is what makes it minutes, not hours.

It runs once: a second run refuses, since the accounts it made are there already.
"""

import datetime as dt
import random
from collections.abc import Callable

from flask import current_app
from sqlalchemy import Table, func, insert, select, text
from werkzeug.security import generate_password_hash

from catalogue.accounts.models import Role, User, UserRole
from catalogue.clock import utcnow
from catalogue.contest.models import (
    AgeCategory,
    Award,
    Criterion,
    Entry,
    JuryAssignment,
    Nomination,
    Review,
    Score,
    Season,
)
from catalogue.errors import InvalidInput
from catalogue.extensions import db
from catalogue.formatting import fold
from catalogue.practices.models import Practice, PracticeRoadmapItem, PracticeStep, practice_sphere
from catalogue.projects.models import Project, ProjectFormat, ProjectStage, project_age_group, project_sphere
from catalogue.taxonomy.models import AgeGroup, Organization, Sphere
from catalogue.workflow.models import Status

MARKER_DOMAIN = "scale.example"
BATCH = 2000

LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
        "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев"]
FIRST = ["Артём", "Мария", "Иван", "Анна", "Дмитрий", "Софья", "Егор", "Алиса", "Матвей", "Ева", "Никита", "Полина",
         "Кирилл", "Варвара", "Тимофей", "Дарья", "Максим", "Ксения", "Лев", "Вероника"]
SUBJECTS = ["робот", "макет моста", "дрон", "теплица", "метеостанция", "модель ГЭС", "экскурсия на завод",
            "лаборатория воды", "карта профессий", "мастерская", "байкальский маршрут", "ферма будущего",
            "школьная газета", "энергосбережение", "цифровой музей", "спутник", "мини-предприятие", "аптека"]
VERBS = ["исследуем", "проектируем", "собираем", "испытываем", "моделируем", "изучаем", "представляем", "строим"]
WORDS = ["профессия", "инженер", "агроном", "технолог", "эколог", "программист", "энергетик", "геолог", "врач",
         "архитектор", "предприятие", "наставник", "команда", "измерение", "эксперимент", "отчёт", "презентация",
         "Иркутск", "Ангара", "Байкал", "Братск", "Усть-Илимск", "школа", "колледж", "университет",
         "практика"]  # fmt: skip


def _text(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = rng.choices(WORDS, k=rng.randint(6, 12))
        out.append(f"{rng.choice(VERBS).capitalize()} {rng.choice(SUBJECTS)}: {' '.join(words)}.")
    return " ".join(out)


def _markdown(rng: random.Random) -> str:
    return f"**{rng.choice(SUBJECTS).capitalize()}.** {_text(rng, 3)}\n\n- {_text(rng, 1)}\n- {_text(rng, 1)}"


class _Ids:
    """The next free id of each table: rows get their ids here, so that children can point at them at once."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, model) -> int:
        table = model.__table__.name
        if table not in self._next:
            self._next[table] = (db.session.scalar(select(func.max(model.id))) or 0) + 1
        value = self._next[table]
        self._next[table] += 1
        return value

    def tables(self) -> list[str]:
        return list(self._next)


def _insert(target, rows: list[dict]) -> None:
    table = target if isinstance(target, Table) else target.__table__
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start : start + BATCH])


def already_loaded() -> bool:
    return db.session.scalar(select(User.id).where(User.email.endswith("@" + MARKER_DOMAIN)).limit(1)) is not None


def load(projects: int, entries: int, practices: int, seed: int = 2026,
         echo: Callable[[str], None] = lambda _: None) -> dict[str, int]:  # fmt: skip
    """Write the data set (the demo content must be there); returns how many rows of each kind were added.

    :raise InvalidInput: it was loaded into this database already.
    """
    if already_loaded():
        raise InvalidInput("Большой набор данных уже загружен в эту базу: повторный запуск ничего не добавит.")
    rng = random.Random(seed)  # noqa: S311  (made-up content, reproducible)
    ids = _Ids()
    now = utcnow()
    password = generate_password_hash("demo-demo-2026", method=current_app.config["PASSWORD_HASH_METHOD"])
    schools = list(db.session.scalars(select(Organization).order_by(Organization.id)))
    groups = list(db.session.scalars(select(AgeGroup).order_by(AgeGroup.position)))
    spheres = list(db.session.scalars(select(Sphere.id)))
    seasons = list(db.session.scalars(select(Season).order_by(Season.year)))
    if not schools or not groups or not seasons:
        raise InvalidInput("Сначала загрузите демонстрационные данные: flask --app catalogue seed-demo.")

    # People: a teacher per 25 students, in the seeded schools; every one can log in with the demo password.
    students_count = max(1, entries // 2)
    teachers_count = max(1, students_count // 25)
    users, roles, students, teachers = [], [], [], []
    for n in range(students_count + teachers_count):
        is_teacher = n >= students_count
        uid, school = ids.take(User), rng.choice(schools)
        last, first = rng.choice(LAST), rng.choice(FIRST)
        if first.endswith("а") or first.endswith("я") or first in ("Ева",):
            last += "а"
        email = f"{'teacher' if is_teacher else 'student'}{n}@{MARKER_DOMAIN}"
        users.append({"id": uid, "email": email, "password_hash": password, "last_name": last, "first_name": first,
                      "middle_name": "", "grade": None if is_teacher else rng.randint(6, 11),
                      "birth_date": None if is_teacher else dt.date(2009 + rng.randint(0, 6), rng.randint(1, 12), 1),
                      "organization_id": school.id, "municipality_id": school.municipality_id,
                      "search_folded": fold(f"{last} {first} {email}"), "active": True, "auth_version": 1,
                      "created_at": now, "verified_at": now if is_teacher else None})  # fmt: skip
        roles.append({"user_id": uid, "role": str(Role.TEACHER if is_teacher else Role.STUDENT)})
        (teachers if is_teacher else students).append((uid, school))
    _insert(User, users)
    _insert(UserRole, roles)
    echo(f"Пользователи: {len(users)}")

    def published(days_back: int) -> dict:
        moment = now - dt.timedelta(days=rng.randint(1, days_back), minutes=rng.randint(0, 1440))
        return {"status": Status.PUBLISHED, "created_at": moment, "updated_at": moment, "submitted_at": moment,
                "published_at": moment}  # fmt: skip

    rows, ages, sphere_rows, stages = [], [], [], []
    for _ in range(projects):
        pid = ids.take(Project)
        teacher, school = rng.choice(teachers)
        subject = rng.choice(SUBJECTS)
        rows.append({"id": pid, "title": f"{rng.choice(VERBS).capitalize()} {subject}: проект № {pid}",
                     "summary": _text(rng, 2), "goal": _text(rng, 1), "format": rng.choice(list(ProjectFormat.LABELS)),
                     "duration_weeks": rng.randint(1, 20), "expected_results": _markdown(rng),
                     "resources": _text(rng, 1), "organization_id": school.id, "author_id": teacher,
                     **published(1000)})  # fmt: skip
        for group in rng.sample(groups, rng.randint(1, 2)):
            ages.append({"project_id": pid, "age_group_id": group.id})
        for sphere in rng.sample(spheres, rng.randint(1, 3)):
            sphere_rows.append({"project_id": pid, "sphere_id": sphere})
        for position in range(1, 4):
            stages.append({"id": ids.take(ProjectStage), "project_id": pid, "position": position,
                           "title": f"Этап {position}: {rng.choice(VERBS)}", "description": _text(rng, 2)})  # fmt: skip
    _insert(Project, rows)
    _insert(project_age_group, ages)
    _insert(project_sphere, sphere_rows)
    _insert(ProjectStage, stages)
    echo(f"Типовые проекты: {projects}")

    rows, sphere_rows, items, steps = [], [], [], []
    for _ in range(practices):
        pid = ids.take(Practice)
        teacher, school = rng.choice(teachers)
        grade_from = rng.randint(6, 10)
        rows.append({"id": pid, "title": f"Практика «{rng.choice(SUBJECTS)}» № {pid}", "summary": _text(rng, 2),
                     "description": _markdown(rng), "organization_id": school.id,
                     "municipality_id": school.municipality_id, "grade_from": grade_from,
                     "grade_to": rng.randint(grade_from, 11), "participants": rng.randint(10, 300),
                     "period_from": dt.date(2020 + rng.randint(0, 5), 9, 1), "results": _text(rng, 2),
                     "resources": _text(rng, 1), "contacts": "Заместитель директора, (3952) 00-00-00",
                     "author_id": teacher, **published(1000)})  # fmt: skip
        for sphere in rng.sample(spheres, rng.randint(1, 2)):
            sphere_rows.append({"practice_id": pid, "sphere_id": sphere})
        for item in rng.sample(range(1, 14), rng.randint(1, 3)):
            items.append({"practice_id": pid, "item": item})
        for position in range(1, 3):
            steps.append({"id": ids.take(PracticeStep), "practice_id": pid, "position": position,
                          "title": f"Шаг {position}", "description": _text(rng, 1)})  # fmt: skip
    _insert(Practice, rows)
    _insert(practice_sphere, sphere_rows)
    _insert(PracticeRoadmapItem, items)
    _insert(PracticeStep, steps)
    echo(f"Лучшие практики: {practices}")

    # Entries: the finished season (the earlier one) gets three quarters, judged and ranked; the open one the rest.
    finished, current = seasons[0], seasons[-1]
    rows, reviews, scores = [], [], []
    per_season = {finished.id: entries - entries // 4, current.id: entries // 4} if finished is not current else {
        current.id: entries}
    for season_id, count in per_season.items():
        nominations = list(db.session.scalars(select(Nomination.id).where(Nomination.season_id == season_id)))
        categories = list(db.session.scalars(select(AgeCategory.id).where(AgeCategory.season_id == season_id)))
        criteria = list(db.session.execute(
            select(Criterion.id, Criterion.max_score).where(Criterion.season_id == season_id)).all())  # fmt: skip
        jurors = dict(db.session.execute(
            select(JuryAssignment.nomination_id, JuryAssignment.juror_id)
            .join(Nomination).where(Nomination.season_id == season_id)).all())  # fmt: skip
        judged = season_id == finished.id and finished is not current
        for n in range(count):
            eid = ids.take(Entry)
            student, school = students[n % len(students)]
            nomination = nominations[(n // len(students)) % len(nominations)]
            row = {"id": eid, "season_id": season_id, "nomination_id": nomination,
                   "age_category_id": rng.choice(categories), "title": f"{rng.choice(SUBJECTS).capitalize()} № {eid}",
                   "description": _markdown(rng), "software": "Tinkercad", "organization_id": school.id,
                   "grade": rng.randint(6, 11), "created_by_id": student, "accepted_at": now,
                   "consent_processing": True, "consent_publication": True, "author_id": student,
                   **published(300)}  # fmt: skip
            if judged and nomination in jurors:
                review_id = ids.take(Review)
                reviews.append({"id": review_id, "entry_id": eid, "juror_id": jurors[nomination], "comment": "",
                                "created_at": now, "updated_at": now})  # fmt: skip
                total = 0
                for criterion_id, max_score in criteria:
                    value = rng.randint(0, max_score)
                    total += value
                    scores.append({"id": ids.take(Score), "review_id": review_id, "criterion_id": criterion_id,
                                   "value": value})  # fmt: skip
                row["total_score"] = total
            rows.append(row)
        if judged:
            ranked = sorted((r for r in rows if r["season_id"] == season_id and "total_score" in r),
                            key=lambda r: (r["nomination_id"], -r["total_score"], r["id"]))  # fmt: skip
            place, previous = 0, None
            for r in ranked:
                place = place + 1 if r["nomination_id"] == previous else 1
                previous = r["nomination_id"]
                r["rank"] = place
                r["award"] = Award.WINNER if place == 1 else Award.PRIZE if place <= 3 else Award.PARTICIPANT
    for r in rows:
        r.setdefault("total_score", None)
        r.setdefault("rank", None)
        r.setdefault("award", None)
    _insert(Entry, rows)
    _insert(Review, reviews)
    _insert(Score, scores)
    echo(f"Конкурсные работы: {len(rows)}, оценки жюри: {len(reviews)}")
    _advance_sequences(ids.tables())
    db.session.commit()
    return {"users": len(users), "projects": projects, "practices": practices, "entries": len(rows),
            "reviews": len(reviews)}  # fmt: skip


def _advance_sequences(tables: list[str]) -> None:
    """On PostgreSQL the ids given here bypassed the sequences: move each past its table's largest id."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(
            # The names are our own tables' (``_Ids``), never input.
            text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))")  # noqa: S608
        )

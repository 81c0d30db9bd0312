"""Contest entries: the content type in the shared workflow, writing entries with their files and
consents, and reading them (the student's list, the gallery, one entry).
"""

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app, url_for
from sqlalchemy import func, or_, select

from catalogue.accounts.models import Role, User, utcnow
from catalogue.contest.models import (
    AgeCategory,
    ConsentGiver,
    ConsentKind,
    ConsentRecord,
    Entry,
    JuryAssignment,
    Nomination,
    Season,
)
from catalogue.contest.viewer import triangles_to_glb, up_axis
from catalogue.extensions import db
from catalogue.formatting import fold, like_words, local_today, plural, ru_date
from catalogue.media import services as media
from catalogue.media import storage
from catalogue.media.models import StoredFile
from catalogue.media.validation import ValidatedUpload, validate_upload
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied
from catalogue.search.outbox import enqueue
from catalogue.taxonomy.models import Organization
from catalogue.workflow import registry
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status

OWNER = "entry"  # the media owner type and the workflow/search content type key
MAX_IMAGES = 6
GALLERY_PER_PAGE = 24
# Under this age a parent or legal representative gives consent for a minor (152-FZ, art. 9).
CONSENT_AGE = 14
# Entries that count against "one entry per nomination": all but the rejected ones.
COUNTED = (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.PUBLISHED, Status.ARCHIVED)


# -- the content type ---------------------------------------------------------------------------


def is_entry_author(user: User, entry: Entry) -> bool:
    """The student and the supervising teacher both count as authors."""
    return user.id in (entry.author_id, entry.supervisor_id)


def is_assigned_juror(user: User, entry: Entry) -> bool:
    return (
        db.session.scalar(
            select(JuryAssignment.id).where(
                JuryAssignment.juror_id == user.id, JuryAssignment.nomination_id == entry.nomination_id
            )
        )
        is not None
    )


def _may_view(user: User, entry: Entry) -> bool:
    return entry.status == Status.PUBLISHED and is_assigned_juror(user, entry)


def _refusal(user: User, entry: Entry, action: str) -> str | None:
    """The contest's rules on top of the lifecycle: the deadline, the model and the consents."""
    season = entry.season
    if action == "submit":
        if not season.is_accepting():
            return f"Приём работ сезона «{season.title}» закрыт {ru_date(season.submission_closes)}."
        if entry.model_file_id is None:
            return "Загрузите 3D-модель: без неё работу нельзя отправить."
        if not entry.consents_complete:
            return "Нужны согласия на обработку персональных данных и на публикацию."
    if action in ("publish", "republish"):
        if not entry.consents_complete:
            return "Нет согласия на обработку данных или на публикацию: работу нельзя допустить."
        if season.results_published:
            return "Итоги сезона уже опубликованы: допускать новые работы поздно."
    return None


def _describe(entry: Entry) -> str:
    parts = [entry.nomination.name, entry.age_category.name]
    if entry.organization:
        parts.append(f"{entry.organization.name} ({entry.organization.municipality.name})")
    return " · ".join(parts)


def entry_url(entry: Entry) -> str:
    return url_for("contest.entry", entry_id=entry.id)


def _age_filter(stmt, age_group_id: int):
    from catalogue.taxonomy.models import AgeGroup

    group = db.session.get(AgeGroup, age_group_id)
    if group is None:
        return stmt.where(False)
    return stmt.where(Entry.grade.between(group.grade_from, group.grade_to))


def register_content_type() -> None:
    registry.register(
        registry.ContentType(
            key=OWNER,
            model=Entry,
            label="Конкурсная работа",
            url=entry_url,
            preview_template="contest/_preview.html",
            describe=_describe,
            is_author=is_entry_author,
            may_view=_may_view,
            recipients=lambda e: [e.author, e.supervisor],
            filter_age_group=_age_filter,
            filter_municipality=lambda stmt, mid: stmt.where(
                Entry.organization.has(Organization.municipality_id == mid)
            ),
            on_change=[lambda e: enqueue(OWNER, e.id)],
            action_labels={
                "publish": "Допустить к конкурсу",
                "republish": "Допустить снова",
                "unpublish": "Снять с конкурса",
                "submit": "Отправить на конкурс",
            },
            action_notices={
                "publish": "«{title}» допущена к конкурсу и показана в галерее сезона.",
                "republish": "«{title}» снова допущена к конкурсу.",
                "unpublish": "«{title}» снята с конкурса. {comment}",
                "request_changes": "«{title}»: модератор просит исправить работу. {comment}",
                "reject": "«{title}» не допущена к конкурсу. {comment}",
            },
            refusal=_refusal,
            after_delete=lambda: url_for("contest.mine"),
        )
    )


def can_read_entry_files(user, entry_id: int) -> bool:
    """Files of an entry are readable by whoever may see the entry (media's owner check)."""
    entry = db.session.get(Entry, entry_id)
    return entry is not None and workflow.can_view(user, entry)


# -- writing ------------------------------------------------------------------------------------


@dataclass
class EntryData:
    nomination_id: int
    age_category_id: int
    title: str
    description: str
    software: str = ""
    coauthors: str = ""
    supervisor_id: int | None = None


@dataclass
class EntryFiles:
    """Pending uploads to attach (keys) and attached files to remove."""

    model_key: str | None = None
    image_keys: list[str] = field(default_factory=list)
    note_key: str | None = None
    remove_image_keys: list[str] = field(default_factory=list)
    remove_note: bool = False


@dataclass
class ConsentData:
    processing: bool = False
    publication: bool = False
    giver: str = ""
    giver_name: str = ""


def age_on(person: User, day: dt.date) -> int | None:
    born = person.birth_date
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def needs_representative(student: User, day: dt.date | None = None) -> bool:
    """True when a parent or legal representative must consent: under 14, or the age is unknown."""
    age = age_on(student, day or local_today())
    return age is None or age < CONSENT_AGE


def students_of(teacher: User) -> list[User]:
    """Students of the teacher's organization, by name (a teacher makes entries for them)."""
    if teacher.organization_id is None:
        return []
    rows = db.session.scalars(
        select(User).where(
            User.active, User.organization_id == teacher.organization_id, User.role_rows.any(role=Role.STUDENT)
        )
    )
    return sorted(rows, key=lambda u: fold(u.full_name))


def supervisor_options(student: User | None, query: str = "", limit: int = 30) -> list[User]:
    """Teachers of the student's organization whose name contains every word of ``query``."""
    if student is None or student.organization_id is None:
        return []
    stmt = select(User).where(
        User.active, User.organization_id == student.organization_id, User.role_rows.any(role=Role.TEACHER)
    )
    for word in like_words(query, 5):
        stmt = stmt.where(User.search_folded.contains(word, autoescape=True))
    rows = db.session.scalars(stmt.limit(200))
    return sorted(rows, key=lambda u: fold(u.full_name))[:limit]


def _student_for(actor: User, student_id: int | None) -> User:
    """The student an entry is for: the actor, or a student of the teacher's organization.

    :raise PermissionDenied: neither a student nor a teacher.
    :raise InvalidInput: the teacher chose no student, or one of another organization.
    """
    if actor.has_role(Role.STUDENT):
        return actor
    if not actor.has_role(Role.TEACHER):
        raise PermissionDenied
    student = db.session.get(User, student_id) if student_id else None
    if (
        student is None
        or not student.active
        or not student.has_role(Role.STUDENT)
        or student.organization_id is None
        or student.organization_id != actor.organization_id
    ):
        raise InvalidInput("Выберите обучающегося своей организации.", "student_id")
    return student


def _check(season: Season, student: User, data: EntryData, entry: Entry | None) -> tuple[Nomination, AgeCategory]:
    """The contest's rules for an entry's fields.

    :raise InvalidInput: a nomination or category not of the season, a category that is not the student's
        grade, more entries in the nomination than the season allows, or a supervisor who is not a teacher
        of the student's organization.
    """
    nomination = db.session.get(Nomination, data.nomination_id) if data.nomination_id else None
    if nomination is None or nomination.season_id != season.id:
        raise InvalidInput("Выберите номинацию.", "nomination_id")
    category = db.session.get(AgeCategory, data.age_category_id) if data.age_category_id else None
    if category is None or category.season_id != season.id:
        raise InvalidInput("Выберите возрастную категорию.", "age_category_id")
    if student.grade is None:
        raise InvalidInput("В профиле обучающегося не указан класс: укажите его, чтобы выбрать категорию.",
                           "age_category_id")  # fmt: skip
    if not category.includes_grade(student.grade):
        raise InvalidInput(
            f"Категория «{category.name}» — для {category.grade_from}–{category.grade_to} классов, "
            f"а участник учится в {student.grade} классе.",
            "age_category_id",
        )
    if not " ".join((data.title or "").split()):
        raise InvalidInput("Укажите название работы.", "title")
    if not (data.description or "").strip():
        raise InvalidInput("Опишите работу.", "description")
    others = select(func.count(Entry.id)).where(
        Entry.season_id == season.id,
        Entry.nomination_id == nomination.id,
        Entry.author_id == student.id,
        Entry.status.in_(COUNTED),
        Entry.id != (entry.id if entry is not None else 0),
    )
    if (db.session.scalar(others) or 0) >= season.entries_per_nomination:
        allowed = plural(season.entries_per_nomination, "работа", "работы", "работ")
        raise InvalidInput(
            f"В номинации «{nomination.name}» у участника уже есть работа: по правилам сезона — не больше {allowed}.",
            "nomination_id",
        )
    if data.supervisor_id is not None:
        supervisor = db.session.get(User, data.supervisor_id)
        if (
            supervisor is None
            or not supervisor.active
            or not supervisor.has_role(Role.TEACHER)
            or supervisor.organization_id is None
            or supervisor.organization_id != student.organization_id
        ):
            raise InvalidInput("Руководитель — педагог той же организации, что и участник.", "supervisor_id")
    return nomination, category


def _apply(entry: Entry, data: EntryData, nomination: Nomination, category: AgeCategory) -> None:
    entry.nomination = nomination
    entry.age_category = category
    entry.title = " ".join(data.title.split())
    entry.description = data.description.strip()
    entry.software = " ".join((data.software or "").split())
    entry.coauthors = " ".join((data.coauthors or "").split())
    entry.supervisor_id = data.supervisor_id


def _lock_student(student: User) -> None:
    """Serialize concurrent entries of one student on PostgreSQL (SQLite writers are serialized already)."""
    db.session.execute(select(User.id).where(User.id == student.id).with_for_update())


def create_entry(
    actor: User,
    season: Season,
    data: EntryData,
    files: EntryFiles,
    consent: ConsentData | None = None,
    student_id: int | None = None,
) -> Entry:
    """A student (or a teacher for a student of their school) starts an entry, saved as a draft.

    :raise PermissionDenied: not a student or teacher.
    :raise Conflict: the season does not take entries now.
    :raise InvalidInput: a rule of :func:`_check`, no 3D model, a file of the wrong kind, or a consent
        given by the wrong person.
    """
    if not (actor.is_authenticated and actor.is_active):
        raise PermissionDenied
    student = _student_for(actor, student_id)
    if season.current_phase not in ("announced", "accepting"):
        raise Conflict(f"Приём работ сезона «{season.title}» закрыт {ru_date(season.submission_closes)}.")
    if not files.model_key:
        raise InvalidInput("Загрузите 3D-модель: STL, OBJ, GLB или 3MF.", "model")
    if data.supervisor_id is None and actor is not student and actor.has_role(Role.TEACHER):
        data.supervisor_id = actor.id
    _lock_student(student)
    nomination, category = _check(season, student, data, None)
    entry = Entry(
        season=season,
        author_id=student.id,
        created_by_id=actor.id,
        organization_id=student.organization_id,
        grade=student.grade,
        status=Status.DRAFT,
    )
    _apply(entry, data, nomination, category)
    db.session.add(entry)
    db.session.flush()
    try:
        _apply_files(actor, entry, files)
        if consent is not None:
            _record_consents(actor, entry, student, consent)
    except Exception:
        db.session.rollback()
        raise
    enqueue(OWNER, entry.id)
    db.session.commit()
    make_viewer(actor, entry)
    return entry


def update_entry(
    actor: User, entry: Entry, data: EntryData, files: EntryFiles, consent: ConsentData | None = None
) -> Entry:
    """An author edits a draft or an entry returned for changes.

    :raise PermissionDenied: not an author. :raise Conflict: under review or decided.
    :raise InvalidInput: as for :func:`create_entry`.
    """
    workflow.ensure_can_edit(actor, entry)
    student = entry.author
    _lock_student(student)
    try:
        nomination, category = _check(entry.season, student, data, entry)
        _apply(entry, data, nomination, category)
        _apply_files(actor, entry, files)
        if consent is not None:
            _record_consents(actor, entry, student, consent)
    except Exception:
        db.session.rollback()
        raise
    enqueue(OWNER, entry.id)
    db.session.commit()
    make_viewer(actor, entry)
    return entry


def _claim_one(actor: User, key: str | None, entry: Entry, kind: str, message: str, field_name: str):
    if not key:
        return None
    claimed = media.claim_files(actor, [key], OWNER, entry.id)
    if not claimed:
        raise InvalidInput("Загруженный файл не найден: загрузите его ещё раз.", field_name)
    stored = claimed[0]
    if stored.kind != kind or (field_name == "note" and stored.extension != "pdf"):
        raise InvalidInput(message, field_name)
    return stored


def _apply_files(actor: User, entry: Entry, files: EntryFiles) -> None:
    model = _claim_one(actor, files.model_key, entry, "model", "Это не 3D-модель.", "model")
    if model is not None:
        for old in (entry.model_file, entry.viewer_file):
            if old is not None:
                media.delete_file(old)
        entry.model_file, entry.viewer_file = model, None
    note = _claim_one(actor, files.note_key, entry, "document", "Пояснительная записка — файл PDF.", "note")
    if note is not None or (files.remove_note and entry.note_file is not None):
        if entry.note_file is not None:
            media.delete_file(entry.note_file)
        entry.note_file = note
    images = media.files_of(OWNER, [entry.id])[entry.id]
    kept = [f for f in images if f.kind == "image" and f.key not in files.remove_image_keys]
    for stored in images:
        if stored.kind == "image" and stored.key in files.remove_image_keys:
            media.delete_file(stored)
    new_images = media.claim_files(actor, files.image_keys, OWNER, entry.id) if files.image_keys else []
    if any(f.kind != "image" for f in new_images):
        raise InvalidInput("Изображения — JPEG, PNG или WebP.", "images")
    if len(kept) + len(new_images) > MAX_IMAGES:
        raise InvalidInput(f"Не больше {plural(MAX_IMAGES, 'изображения', 'изображений', 'изображений')}.", "images")
    entry.updated_at = utcnow()
    db.session.flush()


def make_viewer(actor: User, entry: Entry) -> StoredFile | None:
    """Write the model as a plain GLB for the viewer (after the entry's commit: it is derived data).

    A failure is logged, not raised: the entry page then shows the thumbnail.
    """
    model = entry.model_file
    if model is None or entry.viewer_file_id is not None:
        return None
    try:
        validated = validate_upload("model", model.original_name, storage.read(model.key))
        glb = triangles_to_glb(validated.triangles, up_axis(validated.format), name=entry.title)
        stem = model.original_name.rsplit(".", 1)[0]
        viewer = media.store_upload(
            actor,
            ValidatedUpload(
                data=glb,
                kind="model",
                format="glb",
                media_type="model/gltf-binary",
                filename=f"{stem}-viewer.glb",
                extension="glb",
                facts=dict(model.facts or {}),
            ),
            owner_type=OWNER,
            owner_id=entry.id,
        )
        entry.viewer_file_id = viewer.id
        db.session.commit()
        return viewer
    except Exception:
        db.session.rollback()
        current_app.logger.exception("viewer model of entry %s failed", entry.id)
        return None


def images_of(entry: Entry) -> list[StoredFile]:
    return [f for f in media.files_of(OWNER, [entry.id])[entry.id] if f.kind == "image"]


# -- consents -----------------------------------------------------------------------------------


def _record_consents(actor: User, entry: Entry, student: User, consent: ConsentData) -> None:
    """Record the consents ticked in the form that are not yet in force (the caller commits).

    :raise InvalidInput: an under-14 student consenting alone, or a representative without a name.
    """
    wanted = [
        (kind, ticked, current)
        for kind, ticked, current in (
            (ConsentKind.PROCESSING, consent.processing, entry.consent_processing),
            (ConsentKind.PUBLICATION, consent.publication, entry.consent_publication),
        )
        if ticked and not current
    ]
    if not wanted:
        return
    try:
        giver = ConsentGiver(consent.giver)
    except ValueError:
        raise InvalidInput("Укажите, кто даёт согласие.", "consent_giver") from None
    if giver == ConsentGiver.SELF and needs_representative(student):
        raise InvalidInput(
            "Участнику нет 14 лет (или дата рождения не указана): согласие даёт родитель или законный представитель.",
            "consent_giver",
        )
    name = " ".join((consent.giver_name or "").split())
    if giver != ConsentGiver.SELF and len(name) < 5:
        raise InvalidInput(
            "Укажите фамилию, имя и отчество родителя или законного представителя.", "consent_giver_name"
        )
    if giver == ConsentGiver.SELF:
        name = student.full_name
    for kind, _ticked, _current in wanted:
        entry.consents.append(
            ConsentRecord(kind=kind, given=True, giver=giver, giver_name=name[:200], recorded_by_id=actor.id)
        )
        setattr(entry, f"consent_{kind}", True)


def withdraw_consent(actor: User, entry: Entry, kind: str) -> Entry:
    """The student, their supervisor (on a parent's word) or a moderator withdraws a consent.

    A published entry is taken off the contest (unpublished) and a submitted one goes back to drafts,
    in the same transaction as the record.

    :raise PermissionDenied: not an author, moderator or administrator.
    :raise Conflict: that consent is not in force.
    """
    if not (workflow.is_author(actor, entry) or registry.is_moderator(actor)):
        raise PermissionDenied
    try:
        kind = ConsentKind(kind)
    except ValueError:
        raise NotFound from None
    if not getattr(entry, f"consent_{kind}"):
        raise Conflict("Это согласие не действует: отзывать нечего.")
    last = next((r for r in reversed(entry.consents) if r.kind == kind and r.given), None)
    entry.consents.append(
        ConsentRecord(
            kind=kind,
            given=False,
            giver=last.giver if last else ConsentGiver.PARENT,
            giver_name=last.giver_name if last else "",
            recorded_by_id=actor.id,
        )
    )
    setattr(entry, f"consent_{kind}", False)
    reason = f"Отозвано согласие {kind.label}."
    if entry.status == Status.PUBLISHED:
        workflow.transition(actor, entry, "unpublish", reason, by_rule=True)
    elif entry.status == Status.SUBMITTED:
        workflow.transition(actor, entry, "withdraw", reason, by_rule=True)
    else:
        enqueue(OWNER, entry.id)
        db.session.commit()
    return entry


def give_consent(actor: User, entry: Entry, consent: ConsentData) -> Entry:
    """Record consents again (e.g. after a withdrawal); the entry then may be submitted or readmitted.

    :raise PermissionDenied: not an author. :raise InvalidInput: as for :func:`create_entry`.
    """
    if not workflow.is_author(actor, entry):
        raise PermissionDenied
    try:
        _record_consents(actor, entry, entry.author, consent)
    except InvalidInput:
        db.session.rollback()
        raise
    db.session.commit()
    return entry


# -- reading ------------------------------------------------------------------------------------


def get_entry(actor, entry_id: int) -> Entry:
    """:raise NotFound: no such entry, or not visible to ``actor``."""
    entry = db.session.get(Entry, entry_id)
    workflow.ensure_can_view(actor, entry)
    return entry


def entries_of(actor: User) -> list[Entry]:
    """A student's own entries, or a teacher's supervised ones, newest season first."""
    stmt = (
        select(Entry)
        .join(Season)
        .where(or_(Entry.author_id == actor.id, Entry.supervisor_id == actor.id, Entry.created_by_id == actor.id))
        .order_by(Season.year.desc(), Entry.updated_at.desc(), Entry.id.desc())
    )
    return list(db.session.scalars(stmt))


@dataclass
class GalleryFilters:
    nomination: int | None = None
    age: int | None = None
    municipality: int | None = None
    page: int = 1

    @property
    def active(self) -> bool:
        return any((self.nomination, self.age, self.municipality))


def gallery(season: Season, filters: GalleryFilters):
    """One page of the season's admitted entries, by nomination, category and title."""
    stmt = (
        select(Entry)
        .join(Nomination, Entry.nomination_id == Nomination.id)
        .join(AgeCategory, Entry.age_category_id == AgeCategory.id)
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
    )
    if filters.nomination:
        stmt = stmt.where(Entry.nomination_id == filters.nomination)
    if filters.age:
        stmt = stmt.where(Entry.age_category_id == filters.age)
    if filters.municipality:
        stmt = stmt.where(Entry.organization.has(Organization.municipality_id == filters.municipality))
    stmt = stmt.order_by(Nomination.position, AgeCategory.position, Entry.title, Entry.id)
    return db.paginate(stmt, page=max(filters.page, 1), per_page=GALLERY_PER_PAGE, error_out=False)


def gallery_municipalities(season: Season):
    """The municipalities that have admitted entries in ``season`` (for the filter)."""
    from catalogue.taxonomy.models import Municipality

    stmt = (
        select(Municipality)
        .join(Organization, Organization.municipality_id == Municipality.id)
        .join(Entry, Entry.organization_id == Organization.id)
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
        .distinct()
    )
    return sorted(db.session.scalars(stmt), key=lambda m: fold(m.name))


def published_entries(season: Season) -> list[Entry]:
    """Every admitted entry of ``season``, by nomination, category, then rank (once confirmed) and title."""
    stmt = (
        select(Entry)
        .join(Nomination, Entry.nomination_id == Nomination.id)
        .join(AgeCategory, Entry.age_category_id == AgeCategory.id)
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
        .order_by(Nomination.position, Nomination.id, AgeCategory.position, Entry.rank, Entry.title, Entry.id)
    )
    return list(db.session.scalars(stmt))


def show_author(actor, entry: Entry) -> bool:
    """Whether ``actor`` sees who made ``entry`` (blind judging hides it from the public and the jury)."""
    if not entry.season.authors_hidden:
        return True
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and (workflow.is_author(actor, entry) or registry.is_moderator(actor) or actor.has_role(Role.ADMIN))
    )

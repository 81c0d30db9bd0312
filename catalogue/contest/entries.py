"""Contest entries: the content type in the shared workflow, writing entries with their files and
consents, and reading them (the student's list, the gallery, one entry).
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from flask import current_app, url_for
from sqlalchemy import func, or_, select

from catalogue.accounts import supervision
from catalogue.accounts.models import Role, Supervision, SupervisionStatus, User
from catalogue.accounts.services import normalize_email
from catalogue.accounts.supervision import students_of as students_of
from catalogue.clock import local_today, utcnow
from catalogue.content import FeedEntry, Sitemap
from catalogue.contest import parental, units
from catalogue.contest.models import (
    AgeCategory,
    ConsentGiver,
    ConsentKind,
    ConsentRecord,
    Entry,
    JuryAssignment,
    Nomination,
    Phase,
    Season,
)
from catalogue.contest.viewer import shows_as_authored, triangles_to_glb, up_axis
from catalogue.extensions import db
from catalogue.formatting import fold, like_words, plural, ru_date
from catalogue.media import services as media
from catalogue.media import storage
from catalogue.media.attachments import attach_files
from catalogue.media.models import StoredFile
from catalogue.media.validation import ValidatedUpload, recent_model, validate_upload
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate, paginate_groups
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied
from catalogue.taxonomy.models import Organization
from catalogue.unit_of_work import after_commit, rolled_back_on_error
from catalogue.urls import external_url
from catalogue.workflow import registry
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status

OWNER = "entry"  # the media owner type and the workflow/search content type key
GALLERY_PER_PAGE = 24
# Under this age a parent or legal representative gives consent for a minor (152-FZ, art. 9).
CONSENT_AGE = 14
# Entries that count against "one entry per nomination": all but the rejected ones.
COUNTED = (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.PUBLISHED, Status.ARCHIVED)


# -- the content type ---------------------------------------------------------------------------


def is_entry_author(user: User, entry: Entry) -> bool:
    """The student, and the supervising teacher once the student has accepted the supervision, count as
    authors; so does the teacher who prepared an entry for a student, until the student answers.
    """
    if user.id == entry.author_id:
        return True
    if entry.accepted_at is None:
        return user.id == entry.created_by_id
    return user.id == entry.supervisor_id and supervision.supervises(user.id, entry.author_id)


def notified_authors(entry: Entry) -> list[User]:
    """Who hears of decisions: the student, and the supervisor the student has accepted."""
    people = [entry.author]
    if entry.supervisor is not None and supervision.supervises(entry.supervisor_id, entry.author_id):
        people.append(entry.supervisor)
    return people


def is_assigned_juror(user: User, entry: Entry) -> bool:
    return (
        db.session.scalar(
            select(JuryAssignment.id).where(
                JuryAssignment.juror_id == user.id, JuryAssignment.nomination_id == entry.nomination_id
            )
        )
        is not None
    )


def may_view(user: User, entry: Entry) -> bool:
    return entry.status == Status.PUBLISHED and is_assigned_juror(user, entry)


def submission_closed(season: Season) -> str:
    """Why ``season`` takes no entries now: its window has not opened yet, or it is over."""
    window = f"с {ru_date(season.submission_opens)} по {ru_date(season.submission_closes)}"
    if season.current_phase == Phase.ANNOUNCED:
        return f"Приём работ ещё не начался: работы на конкурс «{season.title}» принимаются {window}."
    return f"Приём работ закрыт: работы на конкурс «{season.title}» принимались {window}."


def refusal(user: User, entry: Entry, action: str) -> str | None:
    """The contest's rules on top of the lifecycle: the deadline, the model and the consents."""
    season = entry.season
    if action == "submit":
        if entry.accepted_at is None:
            return "Работу подготовил педагог: участник должен принять её в разделе «Мои конкурсные работы»."
        if not season.is_accepting():
            return submission_closed(season)
        if entry.model_file_id is None:
            return "Загрузите 3D-модель: без неё работу нельзя отправить."
        # Under 14 the entry may go once the parent has been asked; it is admitted when they confirm.
        if not entry.consents_complete and parental.open_request(entry) is None:
            return "Нужны согласия на обработку персональных данных и на публикацию."
    if action in ("publish", "republish"):
        if not entry.consents_complete:
            waiting = parental.open_request(entry)
            if waiting is not None and waiting.by_paper:
                return "Согласие родителя не подтверждено: бланк с подписью ещё не загружен или не проверен."
            if waiting is not None:
                return (
                    f"Согласие родителя не подтверждено: {waiting.parent_name} ещё не ответил(а) на письмо "
                    f"со ссылкой ({waiting.parent_email}). Работу нельзя допустить."
                )
            return "Нет согласия на обработку данных или на публикацию: работу нельзя допустить."
        if season.results_published:
            return "Итоги сезона уже опубликованы: допускать новые работы поздно."
    return None


def describe(entry: Entry) -> str:
    parts = [entry.nomination.name, entry.age_category.name]
    if entry.organization:
        parts.append(f"{entry.organization.name} ({entry.organization.municipality.name})")
    return " · ".join(parts)


def entry_url(entry: Entry) -> str:
    return url_for("contest.entry", entry_id=entry.id)


def age_filter(stmt, age_group_id: int):
    from catalogue.taxonomy.models import AgeGroup

    group = db.session.get(AgeGroup, age_group_id)
    if group is None:
        return stmt.where(False)
    return stmt.where(Entry.grade.between(group.grade_from, group.grade_to))


def can_read_entry_files(user, entry_id: int) -> bool:
    """Files of an entry are readable by whoever may see the entry (media's owner check)."""
    entry = db.session.get(Entry, entry_id)
    return entry is not None and workflow.can_view(user, entry)


def can_read_consent_scan(user, consent_id: int) -> bool:
    """A signed consent form is never public: the entry's authors and moderators read it."""
    from catalogue.contest.models import ParentalConsent

    record = db.session.get(ParentalConsent, consent_id)
    if record is None or not getattr(user, "is_authenticated", False):
        return False
    return registry.is_moderator(user) or workflow.is_author(user, record.entry)


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
    model_unit: str = "mm"  # STL and OBJ: the unit the file's numbers are in (contest.units)


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
    # Under 14: where the parent confirms by a one-time link, or the paper form instead.
    parent_email: str = ""
    paper: bool = False


def age_on(person: User, day: dt.date) -> int | None:
    born = person.birth_date
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def needs_representative(student: User, day: dt.date | None = None) -> bool:
    """True when a parent or legal representative must consent: under 14, or the age is unknown."""
    age = age_on(student, day or local_today())
    return age is None or age < CONSENT_AGE


def supervisor_options(student: User | None, query: str = "", limit: int = 30) -> list[User]:
    """Verified teachers of the student's organization whose name contains every word of ``query``."""
    if student is None or student.organization_id is None:
        return []
    stmt = select(User).where(
        User.active,
        User.organization_id == student.organization_id,
        User.role_rows.any(role=Role.TEACHER),
        User.verified_at.is_not(None),
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
    supervision.require_verified_teacher(actor, "student_id")
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
        Entry.accepted_at.is_not(None),  # a teacher's proposal the student has not taken blocks nothing
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
        if not supervisor.is_verified_teacher:
            raise InvalidInput(
                "Этот педагог ещё не подтверждён на сайте и пока не может быть руководителем.", "supervisor_id"
            )
    return nomination, category


def _apply(entry: Entry, data: EntryData, nomination: Nomination, category: AgeCategory) -> None:
    entry.nomination = nomination
    entry.age_category = category
    entry.title = " ".join(data.title.split())
    entry.description = data.description.strip()
    entry.software = " ".join((data.software or "").split())
    entry.coauthors = " ".join((data.coauthors or "").split())
    entry.supervisor_id = data.supervisor_id
    entry.model_unit = units.unit_of(data.model_unit).value


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
        raise Conflict(submission_closed(season))
    if not files.model_key:
        raise InvalidInput("Загрузите 3D-модель: STL, OBJ, GLB или 3MF.", "model")
    by_teacher = actor.id != student.id
    if by_teacher:
        # A teacher's entry for a student names the teacher as supervisor and waits for the student.
        if data.supervisor_id not in (None, actor.id):
            raise InvalidInput("Руководителя выбирает участник: работу, которую готовите вы, ведёте вы.",
                               "supervisor_id")  # fmt: skip
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
        accepted_at=None if by_teacher else utcnow(),
    )
    _apply(entry, data, nomination, category)
    db.session.add(entry)
    db.session.flush()
    with rolled_back_on_error():
        _apply_files(actor, entry, files)
        send = _record_consents(actor, entry, student, consent) if consent is not None else None
        if by_teacher:
            _propose(actor, entry, student)
        elif entry.supervisor_id is not None:
            supervision.accept_by_choice(student, entry.supervisor)
    if send is not None:
        after_commit(send)
    _make_viewer_after_commit(actor, entry)
    db.session.commit()
    return entry


def _propose(teacher: User, entry: Entry, student: User) -> None:
    """Tell the student of an entry a teacher prepared for them (the caller commits)."""
    from catalogue.workflow.services import notify

    notify(
        student,
        f"Педагог {teacher.full_name} подготовил(а) для вас конкурсную работу «{entry.title}». "
        "Примите её (и руководство педагога) или откажитесь.",
        entry_url(entry),
    )


def answer_proposal(student: User, entry: Entry, accept: bool) -> Entry | None:
    """The student takes a teacher's prepared entry as theirs (accepting the teacher as supervisor), or
    declines it (the draft, its files and consent requests are deleted). The teacher is told.

    :raise PermissionDenied: not the entry's student. :raise Conflict: answered already.
    :raise InvalidInput: taking it would exceed the season's limit in the nomination.
    """
    from catalogue.workflow.services import notify

    if not (student.is_authenticated and student.id == entry.author_id):
        raise PermissionDenied
    if entry.accepted_at is not None:
        raise Conflict("Эта работа уже принята.")
    teacher, title = entry.supervisor, entry.title
    if not accept:
        if teacher is not None:
            notify(teacher, f"{student.full_name} отказал(ся/ась) от подготовленной вами работы «{title}».")
        parental.delete_scans(entry)
        workflow.delete_draft(student, entry)  # with its files, history and notices; commits
        return None
    _lock_student(student)
    _check(entry.season, student, _data_of(entry), entry)
    entry.accepted_at = utcnow()
    if teacher is not None:
        supervision.accept_by_choice(student, teacher)
        notify(teacher, f"{student.full_name} принял(а) подготовленную вами работу «{title}».", entry_url(entry))
    db.session.commit()
    return entry


def _data_of(entry: Entry) -> EntryData:
    return EntryData(
        nomination_id=entry.nomination_id,
        age_category_id=entry.age_category_id,
        title=entry.title,
        description=entry.description,
        software=entry.software,
        coauthors=entry.coauthors,
        supervisor_id=entry.supervisor_id,
        model_unit=entry.model_unit,
    )


def update_entry(
    actor: User, entry: Entry, data: EntryData, files: EntryFiles, consent: ConsentData | None = None
) -> Entry:
    """An author edits a draft or an entry returned for changes.

    :raise PermissionDenied: not an author. :raise Conflict: under review or decided.
    :raise InvalidInput: as for :func:`create_entry`.
    """
    workflow.ensure_can_edit(actor, entry)
    student = entry.author
    if actor.id != student.id and data.supervisor_id != entry.supervisor_id:
        raise InvalidInput("Руководителя выбирает сам участник.", "supervisor_id")
    _lock_student(student)
    with rolled_back_on_error():
        nomination, category = _check(entry.season, student, data, entry)
        _apply(entry, data, nomination, category)
        _apply_files(actor, entry, files)
        send = _record_consents(actor, entry, student, consent) if consent is not None else None
        if actor.id == student.id and entry.supervisor_id is not None and entry.accepted_at is not None:
            supervision.accept_by_choice(student, entry.supervisor)
    if send is not None:
        after_commit(send)
    _make_viewer_after_commit(actor, entry)
    db.session.commit()
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
    attach_files(actor, OWNER, entry.id, add=files.image_keys, remove=files.remove_image_keys)
    entry.updated_at = utcnow()
    db.session.flush()


def _make_viewer_after_commit(actor: User, entry: Entry) -> None:
    """Queue :func:`make_viewer` for after the commit, in a session of its own (the committed one is done).

    A model uploaded in this request is passed along as it was validated (its triangles in memory).
    """
    app, actor_id, entry_id = current_app._get_current_object(), actor.id, entry.id
    checked = recent_model(entry.model_file.sha256) if entry.model_file is not None else None

    def make() -> None:
        with app.app_context():
            make_viewer(db.session.get(User, actor_id), db.session.get(Entry, entry_id), checked)

    after_commit(make)


def make_viewer(actor: User, entry: Entry, checked: ValidatedUpload | None = None) -> StoredFile | None:
    """Write the model as a plain GLB for the viewer (after the entry's commit: it is derived data).

    ``checked`` is the model as validated at its upload: its triangles are used, never parsed again.
    Without it (a model uploaded in an earlier request, e.g. before a form was sent again after an
    error) the stored model is read once more. A failure is logged, not raised: the entry page then
    shows the thumbnail.
    """
    model = entry.model_file
    if model is None or entry.viewer_file_id is not None:
        return None
    entry_id, title, name, key, facts = entry.id, entry.title, model.original_name, model.key, dict(model.facts or {})
    try:
        # Building the file takes time: no transaction (and no write lock) is held meanwhile.
        media.release_transaction()
        validated = checked if checked is not None else validate_upload("model", name, storage.read(key))
        # A model validated in this request comes without its bytes (they are on disk); a GLB needs them.
        authored = (validated.data or storage.read(key)) if validated.format == "glb" else None
        if authored is not None and shows_as_authored(authored):
            glb = authored  # the cleaned upload itself: its materials and textures, as authored
        else:
            glb = triangles_to_glb(
                validated.triangles, up_axis(validated.format), name=title, colours=validated.colours
            )
        stem = name.rsplit(".", 1)[0]
        viewer = media.store_upload(
            actor,
            ValidatedUpload(
                data=glb,
                kind="model",
                format="glb",
                media_type="model/gltf-binary",
                filename=f"{stem}-viewer.glb",
                extension="glb",
                facts=facts,
            ),
            owner_type=OWNER,
            owner_id=entry_id,
            derived=True,
        )
        entry.viewer_file_id = viewer.id
        db.session.commit()
        return viewer
    except Exception:
        db.session.rollback()
        current_app.logger.exception("viewer model of entry %s failed", entry_id)
        return None


def file_name_words(stored: StoredFile) -> tuple:
    """The words of an entry's file's public name: «СоЗДатель 2027 работа 23» (+ «записка», «изображение 41»).

    The entry is taken from the session (pages that link a file have loaded it), so this costs no query there.
    """
    entry = db.session.get(Entry, stored.owner_id)
    if entry is None:
        return ("работа", stored.owner_id, "файл", stored.id)
    words = ("СоЗДатель", entry.season.year, "работа", entry.id)
    if stored.id == entry.model_file_id:
        return words
    if stored.id == entry.viewer_file_id:
        return (*words, "просмотр")
    if stored.id == entry.note_file_id:
        return (*words, "записка")
    return (*words, "изображение", stored.id)


def images_of(entry: Entry) -> list[StoredFile]:
    return [f for f in media.files_of(OWNER, [entry.id])[entry.id] if f.kind == "image"]


# -- consents -----------------------------------------------------------------------------------


def _record_consents(actor: User, entry: Entry, student: User, consent: ConsentData):
    """Record the consents ticked in the form that are not yet in force (the caller commits).

    For a student under 14 nothing is in force yet: the parent is asked to confirm (:mod:`parental`);
    returns the function that sends the parent's letter after the commit, or None.

    :raise InvalidInput: an under-14 student consenting alone, a representative without a name, or under 14
        neither the parent's own e-mail nor the paper form.
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
    elif needs_representative(student):
        return _ask_parent(actor, entry, student, giver, name, consent)
    for kind, _ticked, _current in wanted:
        entry.consents.append(
            ConsentRecord(kind=kind, given=True, giver=giver, giver_name=name[:200], recorded_by_id=actor.id)
        )
        setattr(entry, f"consent_{kind}", True)
    return None


EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _ask_parent(actor: User, entry: Entry, student: User, giver: ConsentGiver, name: str, consent: ConsentData):
    """Under 14: the parent confirms by the link in a letter, or signs the paper form."""
    if consent.paper:
        return parental.request_consent(actor, entry, giver, name, "")
    email = normalize_email(consent.parent_email or "")
    if not EMAIL_SHAPE.match(email) or len(email) > 254:
        raise InvalidInput(
            "Укажите адрес электронной почты родителя: ему придёт письмо со ссылкой для подтверждения согласия. "
            "Если почты нет, выберите бумажный бланк.",
            "consent_parent_email",
        )
    if email in (normalize_email(student.email), normalize_email(actor.email)):
        raise InvalidInput(
            "Это адрес участника или ваш: согласие подтверждает сам родитель, укажите его адрес.",
            "consent_parent_email",
        )
    return parental.request_consent(actor, entry, giver, name, email)


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
        db.session.commit()
    return entry


def give_consent(actor: User, entry: Entry, consent: ConsentData) -> Entry:
    """Record consents again (e.g. after a withdrawal); the entry then may be submitted or readmitted.

    :raise PermissionDenied: not an author. :raise InvalidInput: as for :func:`create_entry`.
    """
    if not workflow.is_author(actor, entry):
        raise PermissionDenied
    with rolled_back_on_error():
        send = _record_consents(actor, entry, entry.author, consent)
    if send is not None:
        after_commit(send)
    db.session.commit()
    return entry


# -- reading ------------------------------------------------------------------------------------


def get_entry(actor, entry_id: int) -> Entry:
    """:raise NotFound: no such entry, or not visible to ``actor``."""
    entry = db.session.get(Entry, entry_id)
    workflow.ensure_can_view(actor, entry)
    return entry


def entries_of(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """A student's own entries, or those a teacher supervises (accepted by the student) or has prepared for a
    student who has not answered yet; newest season first, one page.
    """
    accepted = (
        select(Supervision.id)
        .where(
            Supervision.teacher_id == actor.id,
            Supervision.student_id == Entry.author_id,
            Supervision.status == SupervisionStatus.ACCEPTED,
        )
        .exists()
    )
    year = Season.year.label("season_year")
    stmt = (
        select(Entry, year)
        .join(Season)
        .where(
            or_(
                Entry.author_id == actor.id,
                (Entry.supervisor_id == actor.id) & Entry.accepted_at.is_not(None) & accepted,
                (Entry.created_by_id == actor.id) & Entry.accepted_at.is_(None),
            )
        )
    )
    return paginate(
        stmt,
        [year.desc(), Entry.updated_at.desc(), Entry.id.desc()],
        pager,
        load=lambda rows: [row.Entry for row in rows],
        count=stmt.with_only_columns(func.count()),
    )


@dataclass
class GalleryFilters:
    nomination: int | None = None
    age: int | None = None
    municipality: int | None = None
    pager: Pager = FIRST_PAGE
    per_page: int = GALLERY_PER_PAGE

    @property
    def active(self) -> bool:
        return any((self.nomination, self.age, self.municipality))


def gallery(season: Season, filters: GalleryFilters):
    """One page of the season's admitted entries, by nomination, category (their positions) and title.

    The few groups are ordered here from the season's nominations and categories and counted by one grouped query;
    a page then reads its rows group by group through ``ix_entry_gallery`` (see :func:`paginate_groups`).
    """
    conditions = gallery_conditions(season, filters)
    counted = db.session.execute(
        select(Entry.nomination_id, Entry.age_category_id, func.count())
        .where(*conditions)
        .group_by(Entry.nomination_id, Entry.age_category_id)
    ).all()
    counts = {(nomination, category): count for nomination, category, count in counted}
    groups = [((n.id, c.id), counts.get((n.id, c.id), 0)) for n in season.nominations for c in season.age_categories]

    def load(rows) -> list[Entry]:
        found = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.id.in_([r.id for r in rows])))}
        return [found[r.id] for r in rows if r.id in found]

    return paginate_groups(
        select(Entry.id, Entry.title, Entry.nomination_id, Entry.age_category_id).where(*conditions),
        [Entry.nomination_id, Entry.age_category_id],
        groups,
        [Entry.title, Entry.id],
        filters.pager,
        per_page=filters.per_page,
        load=load,
    )


def gallery_conditions(season: Season, filters: GalleryFilters) -> list:
    """The season's admitted entries that ``filters`` choose (the gallery, its feed and its digests)."""
    conditions = [Entry.season_id == season.id, Entry.status == Status.PUBLISHED]
    if filters.nomination:
        conditions.append(Entry.nomination_id == filters.nomination)
    if filters.age:
        conditions.append(Entry.age_category_id == filters.age)
    if filters.municipality:
        conditions.append(Entry.organization.has(Organization.municipality_id == filters.municipality))
    return conditions


def gallery_feed_entries(
    season: Season, filters: GalleryFilters, limit: int, after: dt.datetime | None = None
) -> list[FeedEntry]:
    """The newest admitted entries the gallery's ``filters`` choose, newest first: one query. Titles, nominations
    and categories only: nothing of the young authors, whatever the season's blind judging."""
    stmt = select(Entry).where(*gallery_conditions(season, filters), Entry.published_at.is_not(None))
    if after is not None:
        stmt = stmt.where(Entry.published_at > after)
    items = db.session.scalars(stmt.order_by(Entry.published_at.desc(), Entry.id.desc()).limit(limit)).unique()
    return [
        FeedEntry(
            title=e.title,
            url=external_url("contest.entry", entry_id=e.id),
            updated=e.published_at,
            published=e.published_at,
            categories=[e.nomination.name, e.age_category.name],
        )
        for e in items
    ]


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
    """Every admitted entry of ``season``, by nomination, category, then rank (once confirmed) and title.

    Entries without a place (no juror scored them) come last in their group, on SQLite and PostgreSQL alike:
    the two put NULL at opposite ends unless told.
    """
    stmt = (
        select(Entry)
        .join(Nomination, Entry.nomination_id == Nomination.id)
        .join(AgeCategory, Entry.age_category_id == AgeCategory.id)
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
        .order_by(
            Nomination.position,
            Nomination.id,
            AgeCategory.position,
            Entry.rank.asc().nulls_last(),
            Entry.title,
            Entry.id,
        )
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


# Admitted entries: their pages are public (blind judging hides only the authors' names).
ENTRY_SITEMAP = Sitemap(
    query=lambda: select(Entry.id, Entry.updated_at).where(Entry.status == Status.PUBLISHED),
    urls=lambda row: [(external_url("contest.entry", entry_id=row[0]), row[1])],
)

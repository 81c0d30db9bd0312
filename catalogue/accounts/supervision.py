"""Teachers supervising students: a verified teacher asks, the student accepts or declines, either may end it.

Until the student has accepted, the teacher cannot see, edit or send the student's contest entries. A student
who picks a teacher as the supervisor of their own entry accepts that supervision by doing so.
"""

from collections.abc import Iterable

from flask import g, url_for
from sqlalchemy import select

from catalogue.accounts.models import Role, Supervision, SupervisionStatus, User
from catalogue.accounts.services import VERIFIERS_HINT
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.formatting import fold
from catalogue.pagination import FIRST_PAGE, Page, Pager, empty_page, paginate
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied


def unverified_message() -> str:
    return (
        "Ваша учётная запись педагога ещё не подтверждена, поэтому списки обучающихся и работа за них недоступны. "
        f"Подтвердить её может {VERIFIERS_HINT}."
    )


def require_verified_teacher(teacher: User, field: str | None = None) -> None:
    """:raise InvalidInput: a teacher not yet confirmed (with who can confirm them)."""
    if not teacher.is_verified_teacher:
        raise InvalidInput(unverified_message(), field)


def students_of(teacher: User) -> list[User]:
    """Students of a verified teacher's organization, by name; nobody for anyone else.

    A verified teacher needs full names to tell their own students apart (two «Анна И.» in one school), and
    sees only their own organization's students.
    """
    if not teacher.is_verified_teacher or teacher.organization_id is None:
        return []
    return sorted(db.session.scalars(_students(teacher)), key=lambda u: fold(u.full_name))


def _students(teacher: User):
    return select(User).where(
        User.active, User.organization_id == teacher.organization_id, User.role_rows.any(role=Role.STUDENT)
    )


def students_page(teacher: User, pager: Pager = FIRST_PAGE) -> Page:
    """One page of :func:`students_of`, by name (the folded name and e-mail)."""
    if not teacher.is_verified_teacher or teacher.organization_id is None:
        return empty_page()
    return paginate(_students(teacher), [User.search_folded, User.id], pager)


def _find(teacher_id: int, student_id: int) -> Supervision | None:
    return db.session.scalar(
        select(Supervision).where(Supervision.teacher_id == teacher_id, Supervision.student_id == student_id)
    )


def supervises(teacher_id: int | None, student_id: int | None) -> bool:
    """Whether the student has accepted the teacher as supervisor (cached for the request)."""
    if teacher_id is None or student_id is None:
        return False
    cache = g.setdefault("_supervises", {})
    key = (teacher_id, student_id)
    if key not in cache:
        found = _find(teacher_id, student_id)
        cache[key] = found is not None and found.status == SupervisionStatus.ACCEPTED
    return cache[key]


def _forget() -> None:
    g.pop("_supervises", None)


def _valid_pair(teacher: User, student: User) -> None:
    require_verified_teacher(teacher, "student_id")
    if (
        not student.active
        or not student.has_role(Role.STUDENT)
        or student.organization_id is None
        or student.organization_id != teacher.organization_id
    ):
        raise InvalidInput("Выберите обучающегося своей организации.", "student_id")


def request_supervision(teacher: User, student: User, *, commit: bool = True) -> Supervision:
    """A verified teacher asks to supervise a student of their organization; the student is told.

    Asking again after a decline or an end opens a new request; an accepted one stays as it is.

    :raise InvalidInput: the teacher is not verified, or the student is not of their organization.
    """
    from catalogue.workflow.services import notify, send_letters

    _valid_pair(teacher, student)
    found = _find(teacher.id, student.id)
    if found is not None and found.status in (SupervisionStatus.ACCEPTED, SupervisionStatus.PENDING):
        return found
    if found is None:
        found = Supervision(teacher_id=teacher.id, student_id=student.id)
        db.session.add(found)
    found.status, found.requested_at, found.decided_at = SupervisionStatus.PENDING, utcnow(), None
    text = (
        f"Педагог {teacher.full_name} предлагает быть руководителем ваших конкурсных работ. "
        "Примите или отклоните предложение в личном кабинете."
    )
    url = url_for("accounts.profile")
    notify(student, text, url)
    _forget()
    send_letters([(student, text, url)], "предложение руководства")
    if commit:
        db.session.commit()
    return found


def accept_by_choice(student: User, teacher: User) -> None:
    """The student chose the teacher as their supervisor (on their own entry): an accepted supervision.

    The caller has checked the pair and commits.
    """
    found = _find(teacher.id, student.id)
    if found is None:
        found = Supervision(teacher_id=teacher.id, student_id=student.id)
        db.session.add(found)
    if found.status != SupervisionStatus.ACCEPTED:
        found.status, found.decided_at = SupervisionStatus.ACCEPTED, utcnow()
    _forget()


def _own(student: User, supervision_id: int) -> Supervision:
    found = db.session.get(Supervision, supervision_id)
    if found is None or found.student_id != student.id:
        raise NotFound
    return found


def answer(student: User, supervision_id: int, accept: bool) -> Supervision:
    """The student accepts or declines a teacher's request; the teacher is told.

    :raise NotFound: not this student's request. :raise Conflict: answered already.
    """
    from catalogue.workflow.services import notify, send_letters

    found = _own(student, supervision_id)
    if found.status != SupervisionStatus.PENDING:
        raise Conflict("На это предложение уже ответили.")
    found.status = SupervisionStatus.ACCEPTED if accept else SupervisionStatus.DECLINED
    found.decided_at = utcnow()
    verb = "принял(а)" if accept else "отклонил(а)"
    text = f"{student.full_name} {verb} ваше предложение быть руководителем конкурсных работ."
    url = url_for("contest.mine")
    notify(found.teacher, text, url)
    _forget()
    send_letters([(found.teacher, text, url)], "ответ на предложение руководства")
    db.session.commit()
    return found


def end(student: User, supervision_id: int) -> Supervision:
    """The student ends a supervision: the teacher no longer sees or changes their entries.

    :raise NotFound: not this student's. :raise Conflict: not in force.
    """
    from catalogue.workflow.services import notify

    found = _own(student, supervision_id)
    if found.status != SupervisionStatus.ACCEPTED:
        raise Conflict("Это руководство не действует.")
    found.status, found.decided_at = SupervisionStatus.ENDED, utcnow()
    notify(found.teacher, f"{student.full_name} завершил(а) ваше руководство конкурсными работами.")
    _forget()
    db.session.commit()
    return found


def of_student(student: User) -> list[Supervision]:
    """A student's supervisions that are pending or in force, newest first."""
    return list(
        db.session.scalars(
            select(Supervision)
            .where(
                Supervision.student_id == student.id,
                Supervision.status.in_((SupervisionStatus.PENDING, SupervisionStatus.ACCEPTED)),
            )
            .order_by(Supervision.requested_at.desc(), Supervision.id.desc())
        )
    )


def of_teacher(teacher: User, students: Iterable[User]) -> dict[int, Supervision]:
    """A teacher's supervisions of ``students``, by student id."""
    ids = [s.id for s in students]
    rows = db.session.scalars(
        select(Supervision).where(Supervision.teacher_id == teacher.id, Supervision.student_id.in_(ids))
    )
    return {s.student_id: s for s in rows}


def ensure_teacher(actor: User) -> None:
    """:raise PermissionDenied: not a teacher."""
    if not actor.has_role(Role.TEACHER):
        raise PermissionDenied

"""What people can do with accounts: register, log in, change or reset a password; admin edits."""

import datetime as dt
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from catalogue.accounts.models import SELF_SERVICE_ROLES, LoginAttempt, Role, User, utcnow
from catalogue.errors import DomainError
from catalogue.extensions import db
from catalogue.formatting import MAX_LIKE_CHARS, fold, plural
from catalogue.mail import send_mail
from catalogue.permissions import PermissionDenied, require_role
from catalogue.taxonomy.models import Municipality, Organization, OrganizationKind

MIN_PASSWORD_LENGTH = 8
PASSWORD_METHOD = "scrypt:32768:8:1"  # noqa: S105  (a hashing method, not a password)

_signals = Namespace()
#: Sent (with ``user=``) inside the transaction that changed a person's name, before the commit:
#: content that shows the name on public pages re-indexes itself in the same transaction.
name_changed = _signals.signal("name-changed")


class AccountError(DomainError):
    """A request about an account that cannot be honoured; the message is for the person."""


class LoginThrottled(AccountError):
    def __init__(self, seconds_left: int):
        minutes = max(1, -(-seconds_left // 60))
        super().__init__(
            "Слишком много неудачных попыток входа. "
            f"Попробуйте снова через {plural(minutes, 'минуту', 'минуты', 'минут')}."
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``id:version``; an outdated version (password changed) logs out."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.auth_version != int(version) or not user.active:
        return None
    return user


# -- registration -----------------------------------------------------------------------------


@dataclass
class Registration:
    role: Role
    email: str
    password: str
    last_name: str
    first_name: str
    middle_name: str
    municipality_id: int
    organization_id: int | None
    grade: int | None = None
    birth_date: dt.date | None = None
    # The person's school is not in the list: its name as typed, and its kind.
    new_organization_name: str = ""
    new_organization_kind: str = OrganizationKind.SCHOOL


def _proposed_organization(data: Registration) -> Organization:
    """The organization a person named at registration: one of that name in the municipality if there
    is one (up to case and ё), else a new one that waits for an administrator's check."""
    municipality = db.session.get(Municipality, data.municipality_id) if data.municipality_id else None
    if municipality is None:
        raise AccountError("Выберите муниципальное образование из списка.", "municipality_id")
    name = " ".join(data.new_organization_name.split())
    if len(name) < 5:
        raise AccountError("Напишите полное название организации, как в её уставе.", "new_organization_name")
    if len(name) > 300:
        raise AccountError("Название не длиннее 300 символов.", "new_organization_name")
    if data.new_organization_kind not in OrganizationKind.LABELS:
        raise AccountError("Выберите тип организации из списка.", "new_organization_kind")
    same = db.session.scalar(
        select(Organization).where(
            Organization.municipality_id == municipality.id, Organization.name_folded == fold(name)
        )
    )
    if same is not None:
        return same
    pending = db.session.scalar(
        select(func.count(Organization.id)).where(
            Organization.municipality_id == municipality.id, Organization.confirmed.is_(False)
        )
    )
    if pending >= current_app.config["MAX_PENDING_ORGANIZATIONS_PER_MUNICIPALITY"]:
        raise AccountError(
            "Новых организаций этого муниципалитета, ждущих проверки, уже слишком много. Выберите свою из списка "
            "или попробуйте позже, когда администратор проверит добавленные.",
            "new_organization_name",
        )
    organization = Organization(
        name=name, kind=data.new_organization_kind, municipality_id=municipality.id, confirmed=False
    )
    db.session.add(organization)
    return organization


def register_user(data: Registration) -> User:
    """Create a student or teacher account.

    :raise AccountError: the e-mail is taken, or the organization is not in the municipality.
    """
    if data.role not in SELF_SERVICE_ROLES:
        raise PermissionDenied
    email = normalize_email(data.email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("Этот адрес уже зарегистрирован. Войдите или восстановите пароль.", "email")
    if data.new_organization_name.strip():
        organization = _proposed_organization(data)
    else:
        organization = db.session.get(Organization, data.organization_id) if data.organization_id else None
        if organization is None or organization.municipality_id != data.municipality_id:
            raise AccountError("Выберите организацию из списка для выбранного муниципалитета.", "organization_id")
    is_student = data.role == Role.STUDENT
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        last_name=data.last_name.strip(),
        first_name=data.first_name.strip(),
        middle_name=(data.middle_name or "").strip(),
        municipality_id=data.municipality_id,
        organization=organization,
        grade=data.grade if is_student else None,
        birth_date=data.birth_date if is_student else None,
    )
    user.set_roles({data.role})
    db.session.add(user)
    db.session.commit()
    return user


# -- logging in -------------------------------------------------------------------------------


def authenticate(email: str, password: str, address: str) -> User:
    """Check credentials, throttling repeated failures per account and per address.

    :raise LoginThrottled: too many recent failures for this e-mail or this address.
    :raise AccountError: wrong credentials, or the account is deactivated.
    """
    config = current_app.config
    email = normalize_email(email)
    window = dt.timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    since = utcnow() - window
    for column, value, limit in (
        (LoginAttempt.email, email, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (LoginAttempt.address, address, config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ):
        failures = db.session.execute(
            select(func.count(), func.min(LoginAttempt.created_at)).where(
                column == value, LoginAttempt.created_at >= since, LoginAttempt.succeeded.is_(False)
            )
        ).one()
        if failures[0] >= limit:
            retry_at = failures[1] + window
            raise LoginThrottled(int((retry_at - utcnow()).total_seconds()))

    user = db.session.scalar(select(User).where(User.email == email))
    ok = user is not None and check_password_hash(user.password_hash, password)
    db.session.add(LoginAttempt(email=email, address=address, succeeded=ok))
    if ok and user.active:
        user.last_login_at = utcnow()
        # A success forgives this account's earlier failures.
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)))
    db.session.commit()
    if not ok:
        raise AccountError("Неверный адрес электронной почты или пароль.")
    if not user.active:
        raise AccountError("Учётная запись отключена. Обратитесь к администратору сайта.")
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """:raise AccountError: the current password is wrong."""
    if not check_password_hash(user.password_hash, current_password):
        raise AccountError("Текущий пароль введён неверно.", "current_password")
    _set_password(user, new_password)
    db.session.commit()


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.auth_version += 1


# -- password reset ---------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # The hash fragment makes a token single-use: it stops matching once the password changes.
    return _reset_serializer().dumps({"id": user.id, "h": user.password_hash[-16:]})


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address belongs to an active account; say nothing either way."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return
    link = url_for("accounts.reset_password", token=make_reset_token(user), _external=True)
    hours = current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600
    send_mail(
        user.email,
        "Восстановление пароля",
        f"Здравствуйте, {user.first_name}!\n\n"
        "Кто-то (возможно, вы) попросил восстановить пароль на сайте "
        f"«{current_app.config['SITE_NAME']}».\n\n"
        f"Чтобы задать новый пароль, откройте ссылку (она действует {plural(hours, 'час', 'часа', 'часов')}):\n"
        f"{link}\n\nЕсли вы не просили об этом, просто удалите письмо.\n",
    )


def user_for_reset_token(token: str) -> User:
    """:raise AccountError: the token is malformed, expired or already used."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise AccountError("Срок действия ссылки истёк. Запросите восстановление пароля ещё раз.") from None
    except BadSignature:
        raise AccountError("Ссылка недействительна. Запросите восстановление пароля ещё раз.") from None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        raise AccountError("Ссылка уже использована или недействительна. Запросите новую.")
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    db.session.commit()
    return user


# -- administration ---------------------------------------------------------------------------

USERS_PER_PAGE = 30


def search_users(actor: User, query: str = "", role: str = "", page: int = 1):
    """Users matching ``query`` (name or e-mail) and ``role``, newest first, one page."""
    require_role(actor, Role.ADMIN)
    stmt = select(User).order_by(User.created_at.desc(), User.id.desc())
    if query:
        stmt = stmt.where(User.search_folded.contains(fold(query.strip()[:MAX_LIKE_CHARS]), autoescape=True))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role_rows.any(role=role))
    return db.paginate(stmt, page=page, per_page=USERS_PER_PAGE, error_out=False)


@dataclass
class UserChanges:
    last_name: str
    first_name: str
    middle_name: str
    email: str
    roles: set[Role]
    active: bool
    organization_id: int | None
    grade: int | None


def update_user(actor: User, user: User, changes: UserChanges) -> None:
    """An administrator edits a person's details, roles and whether the account is active.

    :raise AccountError: the e-mail belongs to someone else, or an admin would lock themselves out.
    """
    require_role(actor, Role.ADMIN)
    email = normalize_email(changes.email)
    taken = db.session.scalar(select(User.id).where(User.email == email, User.id != user.id))
    if taken is not None:
        raise AccountError("Этот адрес уже принадлежит другой учётной записи.", "email")
    if user.id == actor.id and (Role.ADMIN not in changes.roles or not changes.active):
        raise AccountError("Нельзя снять с себя роль администратора или отключить свою учётную запись.")
    if not changes.roles:
        raise AccountError("У пользователя должна быть хотя бы одна роль.", "roles")
    organization = db.session.get(Organization, changes.organization_id) if changes.organization_id else None
    _set_name(user, changes.last_name, changes.first_name, changes.middle_name)
    user.email = email
    user.set_roles(changes.roles)
    user.organization = organization
    if organization is not None:
        user.municipality_id = organization.municipality_id
    user.grade = changes.grade if Role.STUDENT in changes.roles else None
    if user.active and not changes.active:
        user.auth_version += 1  # ends the sessions it has open
    user.active = changes.active
    db.session.commit()


@dataclass
class ProfileChanges:
    last_name: str
    first_name: str
    middle_name: str
    grade: int | None = None


def update_profile(user: User, changes: ProfileChanges) -> None:
    """A person corrects their own name and, a student, moves up a grade.

    :raise AccountError: a required name is empty or the grade is outside 6-11.
    """
    if not changes.last_name.strip():
        raise AccountError("Укажите фамилию.", "last_name")
    if not changes.first_name.strip():
        raise AccountError("Укажите имя.", "first_name")
    if user.is_student:
        if changes.grade is None or not 6 <= changes.grade <= 11:
            raise AccountError("Выберите класс с 6 по 11.", "grade")
        user.grade = changes.grade
    _set_name(user, changes.last_name, changes.first_name, changes.middle_name)
    db.session.commit()


def _set_name(user: User, last_name: str, first_name: str, middle_name: str) -> None:
    before = user.full_name
    user.last_name = last_name.strip()
    user.first_name = first_name.strip()
    user.middle_name = middle_name.strip()
    if user.id is not None and user.full_name != before:
        name_changed.send(current_app._get_current_object(), user=user)


def create_user(
    email: str,
    password: str,
    last_name: str,
    first_name: str,
    roles: set[Role],
    middle_name: str = "",
    organization: Organization | None = None,
    grade: int | None = None,
    birth_date: dt.date | None = None,
) -> User:
    """Create an account directly (command line, demo content); the caller commits."""
    user = User(
        email=normalize_email(email),
        password_hash=hash_password(password),
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        organization=organization,
        municipality=organization.municipality if organization else None,
        grade=grade,
        birth_date=birth_date,
    )
    user.set_roles(roles)
    db.session.add(user)
    return user

"""What people can do with accounts: register, log in, change or reset a password; admin edits."""

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from catalogue.accounts.models import (
    KnownAddress,
    LoginAttempt,
    Role,
    UsedLoginLink,
    User,
)
from catalogue.accounts.sessions import end_all_sessions
from catalogue.clock import utcnow
from catalogue.database import reading
from catalogue.errors import DomainError
from catalogue.extensions import db
from catalogue.formatting import MAX_LIKE_CHARS, fold, plural
from catalogue.mail import greeting, send_mail
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate
from catalogue.permissions import PermissionDenied, require_role
from catalogue.roles import SELF_SERVICE_ROLES
from catalogue.taxonomy.models import Municipality, Organization, OrganizationKind
from catalogue.urls import external_url

MIN_PASSWORD_LENGTH = 8

class AccountError(DomainError):
    """A request about an account that cannot be honoured; the message is for the person."""


class LoginThrottled(AccountError):
    def __init__(self, seconds_left: int):
        minutes = max(1, -(-seconds_left // 60))
        super().__init__(
            "Слишком много неудачных попыток входа. "
            f"Попробуйте снова через {plural(minutes, 'минуту', 'минуты', 'минут')} "
            "или войдите по ссылке из письма."
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """A new hash of ``password`` with the configured ``PASSWORD_HASH_METHOD`` (needs an app context)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


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
    # Where the login link leads (a path on this site the caller has checked, e.g. the entry form); "" the start page.
    next_url: str = ""


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


def register_user(data: Registration) -> User | None:
    """Create a student or teacher account and mail its owner a one-time login link.

    The answer must not tell whether the address was free: for an address already registered nothing is
    created (the password is hashed all the same) and its owner gets a letter saying someone tried to
    register with it, with a link to reset the password. Returns the new user, or None then.

    :raise AccountError: the organization is not in the municipality, or a named one is refused.
    """
    if data.role not in SELF_SERVICE_ROLES:
        raise PermissionDenied
    email = normalize_email(data.email)
    if data.new_organization_name.strip():
        organization = _proposed_organization(data)
    else:
        organization = db.session.get(Organization, data.organization_id) if data.organization_id else None
        if organization is None or organization.municipality_id != data.municipality_id:
            raise AccountError("Выберите организацию из списка для выбранного муниципалитета.", "organization_id")
    password_hash = hash_password(data.password)
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None:
        db.session.rollback()  # a school named in the form is not added either
        if existing.active:
            _mail_registration_attempt(existing)
        return None
    is_student = data.role == Role.STUDENT
    user = User(
        email=email,
        password_hash=password_hash,
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
    _mail_welcome(user, data.next_url)
    return user


def _mail_welcome(user: User, next_url: str = "") -> None:
    site = current_app.config["SITE_NAME"]
    back = {"next": next_url} if next_url else {}
    link = external_url("accounts.login_by_link", token=make_login_link_token(user), **back)
    minutes = current_app.config["LOGIN_LINK_MAX_AGE"] // 60
    send_mail(
        user.email,
        "Учётная запись создана",
        f"{greeting(user)}\n\nНа сайте «{site}» создана учётная запись с этим адресом.\n\n"
        f"Чтобы войти, откройте ссылку (она действует {plural(minutes, 'минуту', 'минуты', 'минут')} "
        f"и только один раз):\n{link}\n\n"
        f"Потом входите с адресом и паролем: {external_url('accounts.login', **back)}\n\n"
        "Если вы не регистрировались, просто удалите письмо.\n",
    )


def _mail_registration_attempt(user: User) -> None:
    site = current_app.config["SITE_NAME"]
    hours = current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600
    send_mail(
        user.email,
        "Попытка регистрации с вашим адресом",
        f"{greeting(user)}\n\n"
        f"Кто-то (возможно, вы) пытался зарегистрироваться на сайте «{site}» с этим адресом, "
        "но учётная запись с ним уже есть, и новая не создана.\n\n"
        f"Если это были вы, войдите: {external_url('accounts.login')}\n"
        f"Если вы не помните пароль, задайте новый по ссылке (она действует {plural(hours, 'час', 'часа', 'часов')}):\n"
        f"{external_url('accounts.reset_password', token=make_reset_token(user))}\n\n"
        "Если это были не вы, просто удалите письмо: с вашей учётной записью ничего не случилось.\n",
    )


# -- logging in -------------------------------------------------------------------------------


def address_key(address: str) -> str:
    """A keyed hash of a client address: what is remembered of the addresses people log in from."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"login-address:{address}".encode(), hashlib.sha256).hexdigest()


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password made with the configured method: an unknown e-mail costs the same time."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _dummy_hashes[method]


def _check_throttle(email: str, address: str, user: User | None) -> None:
    """:raise LoginThrottled: this address has failed too often for this account (growing delays), or for
    many accounts at once and the account's owner never logged in from it."""
    config = current_app.config
    now = utcnow()
    forgotten = now - dt.timedelta(seconds=config["LOGIN_FAILURES_FORGOTTEN_AFTER_SECONDS"])
    failures, last = db.session.execute(
        select(func.count(), func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email,
            LoginAttempt.address == address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at >= forgotten,
        )
    ).one()
    over = failures - config["LOGIN_FREE_FAILURES"]
    if over >= 0:
        delay = min(config["LOGIN_FIRST_DELAY_SECONDS"] * 2 ** min(over, 30), config["LOGIN_MAX_DELAY_SECONDS"])
        wait = (last + dt.timedelta(seconds=delay) - now).total_seconds()
        if wait > 0:
            raise LoginThrottled(int(wait) + 1)
    window = dt.timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    failures, first = db.session.execute(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            LoginAttempt.address == address, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= now - window
        )
    ).one()
    if failures >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"] and not _is_known_address(user, address):
        raise LoginThrottled(int((first + window - now).total_seconds()) + 1)


def _is_known_address(user: User | None, address: str) -> bool:
    if user is None:
        return False
    known = select(KnownAddress.id).where(
        KnownAddress.user_id == user.id, KnownAddress.address_hash == address_key(address)
    )
    return db.session.scalar(known) is not None


def remember_address(user: User, address: str) -> None:
    """Note that ``user`` logged in from ``address`` (the caller commits)."""
    key = address_key(address)
    known = db.session.scalar(
        select(KnownAddress).where(KnownAddress.user_id == user.id, KnownAddress.address_hash == key)
    )
    if known is None:
        db.session.add(KnownAddress(user_id=user.id, address_hash=key))
    else:
        known.last_used_at = utcnow()


def authenticate(email: str, password: str, address: str) -> User:
    """Check credentials, throttling repeated failures per (account, address) and per address.

    An unknown address gets the same answers, and costs the same hashing, as a known one.

    :raise LoginThrottled: too many recent failures for this account from this address, or from this
        address for many accounts (not for the owner at an address they logged in from before).
    :raise AccountError: wrong credentials, or the account is deactivated.
    """
    email = normalize_email(email)
    # The password is checked (scrypt, ~0.1 s) before anything is written: on SQLite the write lock is taken only
    # for the short writes after it, so logins do not queue behind each other's hashing.
    with reading():
        try:
            user = db.session.scalar(select(User).where(User.email == email))
            _check_throttle(email, address, user)
            password_hash = user.password_hash if user is not None else _dummy_hash()
        finally:
            db.session.rollback()
    ok = check_password_hash(password_hash, password) and user is not None
    db.session.add(LoginAttempt(email=email, address=address, succeeded=ok))
    if ok and user.active:
        user.last_login_at = utcnow()
        remember_address(user, address)
        # A success forgives this address's earlier failures for this account (not other addresses').
        db.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == email, LoginAttempt.address == address, LoginAttempt.succeeded.is_(False)
            )
        )
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
    end_all_sessions(user)


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
    link = external_url("accounts.reset_password", token=make_reset_token(user))
    hours = current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600
    send_mail(
        user.email,
        "Восстановление пароля",
        f"{greeting(user)}\n\n"
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


# -- one-time login links --------------------------------------------------------------------


def _login_link_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-link")


def make_login_link_token(user: User) -> str:
    return _login_link_serializer().dumps({"id": user.id, "n": secrets.token_urlsafe(24)})


def request_login_link(email: str) -> None:
    """Mail a one-time login link if the address belongs to an active account; say nothing either way."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return
    link = external_url("accounts.login_by_link", token=make_login_link_token(user))
    minutes = current_app.config["LOGIN_LINK_MAX_AGE"] // 60
    send_mail(
        user.email,
        "Вход на сайт по ссылке",
        f"{greeting(user)}\n\n"
        f"Кто-то (возможно, вы) попросил ссылку для входа на сайт «{current_app.config['SITE_NAME']}».\n\n"
        f"Чтобы войти, откройте ссылку (она действует {plural(minutes, 'минуту', 'минуты', 'минут')} "
        f"и только один раз):\n{link}\n\nЕсли вы не просили об этом, просто удалите письмо.\n",
    )


def user_for_login_link(token: str) -> tuple[User, str]:
    """The user a login link is for, and its nonce.

    :raise AccountError: the link is malformed, expired, used or for a deactivated account.
    """
    try:
        data = _login_link_serializer().loads(token, max_age=current_app.config["LOGIN_LINK_MAX_AGE"])
    except SignatureExpired:
        raise AccountError("Срок действия ссылки истёк. Запросите новую ссылку для входа.") from None
    except BadSignature:
        raise AccountError("Ссылка недействительна. Запросите новую ссылку для входа.") from None
    nonce = data.get("n") if isinstance(data, dict) else None
    user = db.session.get(User, data.get("id")) if isinstance(nonce, str) and isinstance(data.get("id"), int) else None
    if user is None or not user.active or db.session.get(UsedLoginLink, nonce) is not None:
        raise AccountError("Ссылка уже использована или недействительна. Запросите новую.")
    return user, nonce


def use_login_link(token: str, address: str) -> User:
    """Use a login link up (once, even with several worker processes: the database holds the nonce).

    :raise AccountError: as :func:`user_for_login_link`, or the link was used meanwhile.
    """
    user, nonce = user_for_login_link(token)
    db.session.add(UsedLoginLink(nonce=nonce))
    user.last_login_at = utcnow()
    remember_address(user, address)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountError("Ссылка уже использована или недействительна. Запросите новую.") from None
    return user


# -- administration ---------------------------------------------------------------------------

USERS_PER_PAGE = 30


def search_users(actor: User, query: str = "", role: str = "", pager: Pager = FIRST_PAGE):
    """Users matching ``query`` (name or e-mail) and ``role``, newest first, one page."""
    require_role(actor, Role.ADMIN)
    stmt = select(User)
    if query:
        stmt = stmt.where(User.search_folded.contains(fold(query.strip()[:MAX_LIKE_CHARS]), autoescape=True))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role_rows.any(role=role))
    return paginate(stmt, [User.created_at.desc(), User.id.desc()], pager, per_page=USERS_PER_PAGE)


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
    if Role.TEACHER in changes.roles and Role.TEACHER not in user.roles:
        _mark_verified(user, actor)  # an administrator makes this person a teacher
    user.set_roles(changes.roles)
    user.organization = organization
    if organization is not None:
        user.municipality_id = organization.municipality_id
    user.grade = changes.grade if Role.STUDENT in changes.roles else None
    if user.active and not changes.active:
        end_all_sessions(user)
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
    # Content that shows the name is re-indexed by the unit of work (its search dependencies on User).
    user.last_name = last_name.strip()
    user.first_name = first_name.strip()
    user.middle_name = middle_name.strip()


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
    if Role.TEACHER in roles:
        user.verified_at = utcnow()  # made by an administrator (command line) or the demo content
    db.session.add(user)
    return user


# -- teachers' verification -------------------------------------------------------------------

VERIFIERS_HINT = "администратор сайта или подтверждённый педагог вашей организации"


def _mark_verified(teacher: User, actor: User) -> None:
    teacher.verified_at = utcnow()
    teacher.verified_by_id = actor.id


def may_verify(actor: User, teacher: User) -> bool:
    """An administrator, or a verified teacher of the same organization, confirms a teacher."""
    if not (actor.is_authenticated and actor.is_active) or actor.id == teacher.id:
        return False
    if actor.has_role(Role.ADMIN):
        return True
    return (
        actor.is_verified_teacher
        and actor.organization_id is not None
        and actor.organization_id == teacher.organization_id
    )


def unverified_teachers(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """Teachers waiting for confirmation, a page of them, longest waiting first: of the actor's organization for a
    verified teacher, all for an admin.

    :raise PermissionDenied: neither.
    """
    stmt = select(User).where(User.active, User.verified_at.is_(None), User.role_rows.any(role=Role.TEACHER))
    if not actor.has_role(Role.ADMIN):
        if not actor.is_verified_teacher or actor.organization_id is None:
            raise PermissionDenied
        stmt = stmt.where(User.organization_id == actor.organization_id)
    return paginate(stmt, [User.created_at, User.id], pager)


def verify_teacher(actor: User, teacher: User) -> None:
    """Confirm a self-registered teacher; they are told in the site and by mail.

    :raise PermissionDenied: the actor may not confirm this teacher.
    :raise AccountError: not a teacher, or confirmed already.
    """
    from catalogue.workflow.services import notify, send_letters

    if not may_verify(actor, teacher):
        raise PermissionDenied
    if not teacher.has_role(Role.TEACHER):
        raise AccountError("Это не учётная запись педагога.")
    if teacher.verified_at is not None:
        raise AccountError("Педагог уже подтверждён.")
    _mark_verified(teacher, actor)
    text = (
        f"Ваша учётная запись педагога подтверждена ({actor.full_name}). Теперь вы можете подавать конкурсные "
        "работы за обучающихся своей организации и руководить их работами."
    )
    url = url_for("accounts.profile")
    notify(teacher, text, url)
    send_letters([(teacher, text, url)], "учётная запись педагога подтверждена")
    db.session.commit()

"""Throttling that cannot be turned against people: limits per (account, address) with growing delays,
a per-address ceiling that spares owners at their usual address, one-time login links, ProxyFix."""

import datetime as dt
import email
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from catalogue import create_app
from catalogue.accounts import services
from catalogue.accounts.models import KnownAddress, LoginAttempt
from catalogue.extensions import db
from tests.conftest import app_config
from tests.helpers import DEFAULT_PASSWORD, csrf_token

OWNER = "teacher@example.ru"
HOME = "192.0.2.10"
ATTACKER = "203.0.113.66"
SCHOOL = "198.51.100.7"


def login_from(client, address: str, email_address: str, password: str = DEFAULT_PASSWORD):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email_address, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def letters(app) -> list[str]:
    folder = Path(app.instance_path) / "mail"
    if not folder.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()).get_payload(decode=True).decode() for p in folder.glob("*.eml")]


def age_failures(app, seconds: int) -> None:
    """Move every recorded attempt ``seconds`` into the past."""
    with app.app_context():
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.created_at -= dt.timedelta(seconds=seconds)
        db.session.commit()


def test_a_stranger_who_knows_only_the_email_cannot_keep_the_owner_out(app, make_user):
    make_user(email=OWNER)
    stranger, owner = app.test_client(), app.test_client()
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        assert login_from(stranger, ATTACKER, OWNER, "угадываю-пароль").status_code == 422
    # The stranger is slowed down ...
    response = login_from(stranger, ATTACKER, OWNER, "угадываю-пароль")
    assert response.status_code == 429
    assert "Попробуйте снова через 1 минуту" in response.get_data(as_text=True)
    # ... and the owner, from their own address, is not: the right password logs in
    assert login_from(owner, HOME, OWNER).status_code == 303
    assert owner.get("/account/").status_code == 200


def test_failures_for_one_account_from_one_address_wait_longer_and_longer(client, app, make_user):
    make_user(email=OWNER)
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        login_from(client, ATTACKER, OWNER, "угадываю-пароль")
    # Even the right password waits its turn from this address: a minute
    assert login_from(client, ATTACKER, OWNER).status_code == 429
    age_failures(app, 61)
    # One more try is allowed; failing it doubles the wait
    assert login_from(client, ATTACKER, OWNER, "угадываю-пароль").status_code == 422
    response = login_from(client, ATTACKER, OWNER)
    assert response.status_code == 429
    assert "Попробуйте снова через 2 минуты" in response.get_data(as_text=True)
    # Throttled tries are not counted, so waiting is enough; a success starts afresh
    age_failures(app, 121)
    assert login_from(client, ATTACKER, OWNER).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(LoginAttempt.id).where(LoginAttempt.succeeded.is_(False))) is None


def test_a_crowd_behind_one_address_does_not_lock_out_owners_who_logged_in_there_before(app, make_user):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    make_user(email=OWNER)
    make_user(email="newcomer@example.ru")
    # The teacher has logged in from the school's network before
    assert login_from(app.test_client(), SCHOOL, OWNER).status_code == 303
    with app.app_context():
        (known,) = db.session.scalars(select(KnownAddress))
        assert SCHOOL not in known.address_hash  # kept as a keyed hash only
    # Someone behind the same address guesses at many accounts
    pupil = app.test_client()
    for n in range(3):
        login_from(pupil, SCHOOL, f"someone{n}@example.ru", "угадываю-пароль")
    # A newcomer there waits (and may use a login link) ...
    assert login_from(app.test_client(), SCHOOL, "newcomer@example.ru").status_code == 429
    # ... the teacher, at an address they used before, does not
    assert login_from(app.test_client(), SCHOOL, OWNER).status_code == 303
    # Elsewhere nobody is affected
    assert login_from(app.test_client(), HOME, "newcomer@example.ru").status_code == 303


def test_unknown_email_costs_the_same_password_hashing_as_a_known_one(client, app, make_user, monkeypatch):
    make_user(email=OWNER)
    hashed: list[str] = []
    real_check = services.check_password_hash

    def counting_check(pwhash: str, password: str) -> bool:
        hashed.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting_check)
    known = login_from(client, HOME, OWNER, "угадываю-пароль")
    unknown = login_from(client, HOME, "nobody@example.ru", "угадываю-пароль")
    # The same answer ...
    assert known.status_code == unknown.status_code == 422
    message = "Неверный адрес электронной почты или пароль."
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    # ... after the same work: one check each, with the configured method and cost
    with app.app_context():
        method = services.hash_password("x").split("$", 1)[0]
    assert hashed == [method, method]


def test_login_link_logs_the_owner_in_once_even_while_their_password_is_throttled(app, make_user):
    app.config["SITE_URL"] = "https://proforientir.example"
    make_user(email=OWNER)
    stranger = app.test_client()
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        login_from(stranger, HOME, OWNER, "угадываю-пароль")
    owner = app.test_client()
    assert login_from(owner, HOME, OWNER).status_code == 429
    # «Войти по ссылке из письма»
    assert "Войти по ссылке из письма" in owner.get("/auth/login").get_data(as_text=True)
    token = csrf_token(owner, "/auth/link")
    response = owner.post("/auth/link", data={"email": OWNER, "csrf_token": token}, follow_redirects=True)
    assert "отправлено письмо со ссылкой для входа" in response.get_data(as_text=True)
    (letter,) = letters(app)
    link = re.search(r"https://proforientir\.example(/auth/link/\S+)", letter).group(1)
    # Opening the link (as a mail scanner would) does not use it up
    assert owner.get(link).status_code == 200
    assert owner.get("/account/").status_code == 302
    response = owner.post(link, data={"csrf_token": csrf_token(owner, link)})
    assert response.status_code == 303
    assert owner.get("/account/").status_code == 200
    # A second use, from anywhere, is refused
    thief = app.test_client()
    assert thief.get(link, follow_redirects=True).request.path == "/auth/link"
    with app.app_context(), pytest.raises(services.AccountError, match="уже использована"):
        services.use_login_link(link.rsplit("/", 1)[1], ATTACKER)


def test_login_link_request_for_an_unknown_address_says_the_same_and_sends_nothing(client, app):
    token = csrf_token(client, "/auth/link")
    response = client.post(
        "/auth/link", data={"email": "nobody@example.ru", "csrf_token": token}, follow_redirects=True
    )
    assert "Если такой адрес зарегистрирован" in response.get_data(as_text=True)
    assert letters(app) == []


def test_expired_or_forged_login_links_are_refused(client, app, make_user):
    user = make_user(email=OWNER)
    with app.app_context():
        token = services.make_login_link_token(user)
    app.config["LOGIN_LINK_MAX_AGE"] = -1
    page = client.get(f"/auth/link/{token}", follow_redirects=True).get_data(as_text=True)
    assert "Срок действия ссылки истёк" in page
    page = client.get(f"/auth/link/{token}x", follow_redirects=True).get_data(as_text=True)
    assert "Ссылка недействительна" in page


@pytest.mark.parametrize(("hops", "recorded"), [(0, "127.0.0.1"), (1, ATTACKER)])
def test_client_address_comes_from_the_proxy_only_when_proxies_are_trusted(tmp_path, hops, recorded):
    config = app_config(tmp_path / "instance", f"sqlite:///{tmp_path / 'c.db'}") | {"PROXY_HOPS": hops}
    app = create_app(config)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    client.post(
        "/auth/login",
        data={"email": OWNER, "password": "угадываю-пароль", "csrf_token": token},
        headers={"X-Forwarded-For": ATTACKER},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    with app.app_context():
        assert db.session.scalar(select(LoginAttempt.address)) == recorded
        db.session.remove()
        db.engine.dispose()

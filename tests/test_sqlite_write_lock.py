"""On SQLite one process at a time holds the write lock. Work that only reads, and a login's password check,
must not hold it: otherwise every login and every save waits behind a long `search check` or behind another
person's password hashing (issue #14 §4)."""

import sqlite3

import pytest
from sqlalchemy import select

from catalogue.accounts import services as account_services
from catalogue.database import reading
from catalogue.extensions import db
from catalogue.search import indexer
from tests.helpers import only_on, recorded_statements

pytestmark = only_on("sqlite")


def _database_file(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def _another_process_may_write(app) -> bool:
    """Whether another connection could take the write lock right now, without waiting."""
    connection = sqlite3.connect(_database_file(app), timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        connection.close()


def test_work_outside_a_request_takes_the_write_lock_unless_it_only_reads(app):
    with app.app_context():
        db.session.execute(select(1))
        assert not _another_process_may_write(app)  # a command that may write waits its turn at BEGIN
        db.session.rollback()
        with reading():
            db.session.execute(select(1))
            assert _another_process_may_write(app)
            db.session.rollback()


def test_a_login_checks_the_password_without_holding_the_write_lock(app, client, auth, make_user, monkeypatch):
    user = make_user(roles="teacher")
    lock_free_while_hashing = []
    real_check = account_services.check_password_hash

    def check_and_look_at_the_lock(password_hash, password):
        lock_free_while_hashing.append(_another_process_may_write(app))
        return real_check(password_hash, password)

    monkeypatch.setattr(account_services, "check_password_hash", check_and_look_at_the_lock)
    assert auth.login(user.email, "not the password").status_code == 422
    assert auth.login(user.email).status_code == 303
    assert lock_free_while_hashing and all(lock_free_while_hashing)


@pytest.mark.parametrize("command", [("search", "check")])
def test_search_check_only_reads_so_it_never_begins_an_immediate_transaction(app, runner, make_user, command):
    make_user(roles="teacher")
    with app.app_context():
        indexer.rebuild()
        with recorded_statements(db.engine) as statements:
            result = runner.invoke(args=list(command))
    assert result.exit_code == 0, result.output
    begins = [s for s, _ in statements if s.startswith("BEGIN")]
    assert begins and "BEGIN IMMEDIATE" not in begins

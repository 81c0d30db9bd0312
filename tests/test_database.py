"""The SQLite set-up: concurrent writers wait for each other instead of failing."""

import threading

from sqlalchemy import func, select

from catalogue.accounts.models import LoginAttempt
from catalogue.extensions import db
from tests.helpers import only_on

WRITERS = 4
WRITES_EACH = 25


@only_on("sqlite")
def test_concurrent_read_then_write_transactions_do_not_fail_with_database_locked(app):
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(WRITES_EACH):
                    # Read first, then write, in one transaction: the pattern that a deferred
                    # SQLite transaction turns into "database is locked" under contention.
                    seen = db.session.scalar(select(func.count(LoginAttempt.id)))
                    db.session.add(LoginAttempt(email=f"w{n}-{i}@example.ru", address=str(seen)))
                    db.session.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == WRITERS * WRITES_EACH

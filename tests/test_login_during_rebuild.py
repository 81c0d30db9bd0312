"""Logging in while the search index is rebuilt (issue #14): nobody waits for the rebuild.

A rebuild of the whole index runs as its own process, as an administrator starts it (``flask search rebuild``),
for many times longer than a login takes. Logins through the real form are timed on the quiet site and while the
rebuild runs, in the same test on the same machine, so a busy machine slows both alike: what is compared is the
ratio of the medians. A login that waited for the rebuild (a write lock held for the rebuild's whole duration)
would take about as long as the rebuild itself, ten times a quiet login and more: the median of the logins during the
rebuild stays within a few times the quiet one, and the slowest within half the rebuild's time.
"""

import datetime as dt
import statistics
import subprocess
import time
from pathlib import Path

from sqlalchemy import insert, select

from catalogue.accounts.models import Organization
from catalogue.extensions import db
from catalogue.practices.models import Practice
from catalogue.search import locks
from tests.helpers import DEFAULT_PASSWORD, csrf_token, published_practice_row
from tests.test_search_resilience import cli, poll

PRACTICES = 800  # a rebuild of a few seconds: tens of logins
QUIET_LOGINS = 12
SLOWER_AT_MOST = 4  # the median login during the rebuild, against the quiet median
REBUILD_AT_LEAST = 10  # the rebuild's duration, in quiet logins: else the test proves nothing


def add_published_practices(app, author_id: int, count: int) -> None:
    with app.app_context():
        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        rows = [published_practice_row(n, school, author_id, dt.datetime(2026, 3, 1)) for n in range(count)]
        db.session.execute(insert(Practice), rows)
        db.session.commit()


def held_by(index: Path, pid: int) -> bool:
    holder = locks.read_holder(index)
    return holder is not None and holder.pid == pid


def log_in(app, email: str) -> tuple[float, int, str]:
    """One login through the form, as a new visitor: the seconds of the POST, its status and its page."""
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    start = time.perf_counter()
    response = client.post("/auth/login", data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token})
    return time.perf_counter() - start, response.status_code, response.get_data(as_text=True)


def test_logins_do_not_wait_for_a_rebuild_of_a_large_index(app, make_user):
    email = "teacher@example.ru"
    teacher = make_user(roles=("teacher",), email=email)
    add_published_practices(app, teacher.id, PRACTICES)
    index = Path(app.config["SEARCH_INDEX_DIR"])
    statuses = []

    def logins(count: int) -> list[float]:
        times = []
        for _ in range(count):
            seconds, status, page = log_in(app, email)
            statuses.append((status, "database is locked" in page))
            times.append(seconds)
        return times

    logins(2)  # the first requests of a process pay for compiling templates and statements
    quiet = logins(QUIET_LOGINS)

    rebuild = cli(app, "search", "rebuild", stderr=subprocess.STDOUT)
    try:
        # Timed from the moment the rebuild holds the index (its start-up, imports included, is not the rebuild).
        poll(lambda: held_by(index, rebuild.pid) or rebuild.poll() is not None, 60, "the rebuild taking the index")
        started = time.perf_counter()
        during = []
        while rebuild.poll() is None:
            during.extend(logins(1))
        rebuilt_in = time.perf_counter() - started
        output = rebuild.communicate(timeout=60)[0]
    finally:
        rebuild.kill()  # only when the test failed before the rebuild ended
        rebuild.wait()
        rebuild.stdout.close()
    assert rebuild.returncode == 0, output
    assert f"Индекс перестроен: {PRACTICES} материалов" in output
    quiet += logins(QUIET_LOGINS)  # before and after: a neighbour's load that came and went counts on both sides

    assert all(status == (303, False) for status in statuses), f"every login succeeds: {statuses}"
    assert len(during) >= 5, f"logins go on during the rebuild: {len(during)} in {rebuilt_in:.1f} s"
    quiet_median, during_median = statistics.median(quiet), statistics.median(during)
    figures = (f"quiet median {quiet_median * 1000:.0f} ms, during the rebuild {during_median * 1000:.0f} ms "
               f"({len(during)} logins, slowest {max(during) * 1000:.0f} ms), rebuild {rebuilt_in:.1f} s")  # fmt: skip
    assert rebuilt_in >= REBUILD_AT_LEAST * quiet_median, f"the rebuild is long enough to tell: {figures}"
    assert during_median <= SLOWER_AT_MOST * quiet_median, f"logins do not wait for the rebuild: {figures}"
    assert max(during) < rebuilt_in / 2, f"no login waits for most of the rebuild: {figures}"

"""Search never goes dark, and the indexer survives ordinary faults (issue #14, §2 and §3).

Faults are made for real: processes killed with SIGKILL, index files deleted or truncated, the database taken away
for a moment. Processes are watched by polling, never by sleeping a fixed time.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from catalogue.search import locks
from tests.factories import make_project

ROOT = Path(__file__).resolve().parent.parent


def poll(condition, seconds: float = 10.0, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not come within {seconds} s")


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def gone(pid: int) -> bool:
    state = locks._proc_stat(pid)
    return state is None or state[0] in ("Z", "X")


def python(script: str, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        **popen,
    )


def cli(app, *args: str, **popen) -> subprocess.Popen:
    """``flask --app catalogue <args>`` in a process of its own, on the test's database and index."""
    script = """
        import sys
        from pathlib import Path
        from flask.cli import ScriptInfo
        from tests.conftest import app_config, make_test_app
        app = make_test_app(app_config(Path(sys.argv[1]), sys.argv[2]) | {"SEARCH_INDEX_DIR": sys.argv[3]})
        app.cli.main(args=sys.argv[4:], prog_name="flask", obj=ScriptInfo(create_app=lambda: app))
    """
    config = app.config
    return python(
        script, config["INSTANCE_PATH"], config["SQLALCHEMY_DATABASE_URI"], config["SEARCH_INDEX_DIR"], *args, **popen
    )


@pytest.fixture
def teacher(make_user):
    return make_user(roles=("teacher",), email="teacher@example.ru")


@pytest.fixture
def moderator(make_user):
    return make_user(roles=("moderator",), email="moderator@example.ru")


@pytest.fixture
def publish(app, teacher, moderator):
    def make(**kw) -> int:
        with app.test_request_context():
            return make_project(teacher, "published", moderator=moderator, **kw).id

    return make


# -- §2: the indexer survives ordinary faults ----------------------------------------------------------------


def test_a_lock_held_by_the_children_of_a_killed_writer_is_broken_by_the_next_writer(tmp_path, caplog):
    # A writer takes the lock and forks a child that inherits it (as Whoosh's indexing processes do); then the
    # writer is killed. The orphan still holds the flock, so only the recorded holder tells that it is stale.
    writer = python(
        """
        import os, sys, time
        from pathlib import Path
        from catalogue.search import locks
        with locks.write_lock(Path(sys.argv[1]), timeout=5):
            child = os.fork()
            if child == 0:
                time.sleep(60)
                os._exit(0)
            print(child, flush=True)
            time.sleep(60)
        """,
        str(tmp_path),
    )
    orphan = int(writer.stdout.readline())
    try:
        recorded = locks.read_holder(tmp_path)
        assert recorded is not None and recorded.pid == writer.pid and recorded.alive()
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        assert not gone(orphan), "the orphan lives on and keeps the old lock file open"
        assert locks.dead_holder(tmp_path) == recorded

        with locks.write_lock(tmp_path, timeout=5):
            assert locks.read_holder(tmp_path) == locks.me()
        assert "no longer exists; lock broken" in caplog.text
        assert locks.dead_holder(tmp_path) is None
    finally:
        os.kill(orphan, signal.SIGKILL)
        writer.stdout.close()


def test_a_live_writer_keeps_its_lock(tmp_path):
    holder = python(
        """
        import sys, time
        from pathlib import Path
        from catalogue.search import locks
        with locks.write_lock(Path(sys.argv[1]), timeout=5):
            print("held", flush=True)
            time.sleep(60)
        """,
        str(tmp_path),
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(locks.IndexUnavailable, match=f"process {holder.pid}"), locks.write_lock(tmp_path, 0.2):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()


def many_practices(app, teacher, count: int) -> None:
    """``count`` published practices, inserted in bulk (their index entries come from a rebuild)."""
    import datetime as dt

    from sqlalchemy import insert, select

    from catalogue.accounts.models import Organization
    from catalogue.extensions import db
    from catalogue.practices.models import Practice
    from tests.helpers import published_practice_row

    with app.app_context():
        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        when = dt.datetime(2026, 3, 1)
        rows = [published_practice_row(n, school, teacher.id, when) for n in range(count)]
        db.session.execute(insert(Practice), rows)
        db.session.commit()


def test_a_killed_rebuild_leaves_no_indexing_processes_behind(app, teacher):
    many_practices(app, teacher, 400)
    rebuild = cli(app, "search", "rebuild", "--procs", "2", stderr=subprocess.DEVNULL)
    children: set[int] = set()
    try:
        children = poll(lambda: children_of(rebuild.pid), seconds=60, what="an indexing process")
        rebuild.send_signal(signal.SIGSTOP)  # hold it with its children alive, then kill it
        children = children_of(rebuild.pid) or children
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait(timeout=10)
        poll(lambda: all(gone(child) for child in children), seconds=5, what="the end of the indexing processes")
    finally:
        rebuild.kill()
        rebuild.stdout.close()
        for child in children:  # only when the test failed
            if not gone(child):
                os.kill(child, signal.SIGKILL)
    # The next rebuild takes the lock and finds every practice.
    rebuilt = cli(app, "search", "rebuild")
    assert rebuilt.communicate(timeout=120)[0].startswith("Индекс перестроен: 400 материалов")

"""Search never goes dark, and the indexer survives ordinary faults (issue #14, §2 and §3).

Faults are made for real: processes killed with SIGKILL, index files deleted or truncated, the database taken away
for a moment. Processes are watched by polling, never by sleeping a fixed time.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text as sql

from catalogue.extensions import db
from catalogue.search import doctor, fallback, indexer, locks
from catalogue.search.backend import EngineQuery
from catalogue.search.query import parse
from catalogue.search.whoosh_backend import WhooshBackend
from tests.factories import make_project
from tests.helpers import writing_request

# Whoosh's own files, locks and fallback: Whoosh on either database (SEARCH_BACKEND=postgresql has none of them).
pytestmark = pytest.mark.whoosh

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
        **({"stdout": subprocess.PIPE} | popen),
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
        # A writing request, as the site's forms are: its transaction takes SQLite's write lock at BEGIN and
        # waits for the watcher's commits instead of failing on a snapshot the watcher has just overtaken.
        with writing_request(app):
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
        assert f"держит процесс {writer.pid}, которого уже нет" in " ".join(doctor.problems(WhooshBackend(tmp_path)))

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


def indexed(app, text: str) -> list[str]:
    with app.app_context():
        return indexer.backend().search(EngineQuery(parse(text), limit=100)).keys


def test_the_watcher_survives_a_database_error_and_a_corrupt_segment(app, publish, tmp_path):
    publish(title="Первый проект")  # the index, built in this process
    app.config["SEARCH_SYNC_IN_PROCESS"] = False  # from now on the watcher applies the changes
    log = tmp_path / "watcher.log"
    with open(log, "w") as errors:
        watcher = cli(app, "search", "sync", "--watch", "--interval", "0.05", stdout=subprocess.DEVNULL, stderr=errors)
    try:
        # The database fails it: the outbox's table is away for a moment.
        with app.app_context():
            db.session.execute(sql("ALTER TABLE search_outbox RENAME TO search_outbox_away"))
            db.session.commit()
        try:
            poll(lambda: "следующая попытка через" in log.read_text(), what="the watcher's report of the failure")
        finally:
            with app.app_context():
                db.session.execute(sql("ALTER TABLE search_outbox_away RENAME TO search_outbox"))
                db.session.commit()
        second = publish(title="Второй проект")
        poll(lambda: f"project:{second}" in indexed(app, "второй"), what="the second project in the index")

        # A segment of the live generation is truncated: the next change makes the watcher rebuild the index.
        with app.app_context():
            whoosh = indexer.backend()
            broken = whoosh.current_name()
        segment = next((whoosh.root / broken).glob("*.seg"))
        segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])
        third = publish(title="Третий проект")
        poll(lambda: whoosh.current_name() != broken, seconds=60, what="a new generation")
        poll(lambda: f"project:{third}" in indexed(app, "третий"), what="the third project in the index")
        assert "Индекс не читается: строится заново." in log.read_text()
        assert watcher.poll() is None, "the watcher is still running"
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)


# -- §3: search never goes dark ------------------------------------------------------------------------------


def result_titles(client, **args) -> tuple[list[str], str]:
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)], html


def wait_for_the_background_rebuild(app) -> None:
    rebuild = fallback.rebuilding(app)
    assert rebuild is not None, "a rebuild was started"
    rebuild.join(timeout=60)
    assert not rebuild.is_alive()


@pytest.fixture
def three_projects(publish):
    publish(title="Роботы на уроке технологии", spheres=["it"])
    publish(title="Роботы в теплице", spheres=["agro"])
    publish(title="Энергетика Ангары", spheres=["it"])


def test_with_the_index_folder_deleted_search_answers_from_the_database_and_the_index_comes_back(
    app, client, three_projects
):
    assert result_titles(client, q="робот", sphere="it")[0] == ["Роботы на уроке технологии"]
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])

    titles, html = result_titles(client, q="роботами", sphere="it")  # another word form, and a filter
    assert titles == ["Роботы на уроке технологии"]
    assert "Поиск обновляется: результаты могут быть неполными." in html
    started = fallback.rebuilding(app)
    assert result_titles(client, q="-теплица -ангара")[0] == ["Роботы на уроке технологии"]  # only words left out
    assert result_titles(client, q="робот")[0] == ["Роботы в теплице", "Роботы на уроке технологии"]  # newest first
    assert fallback.rebuilding(app) is started  # one rebuild, not one per request

    wait_for_the_background_rebuild(app)
    titles, html = result_titles(client, q="робот", sphere="it")
    assert titles == ["Роботы на уроке технологии"]
    assert "Поиск обновляется" not in html


def test_a_truncated_segment_is_named_by_check_and_search_answers_from_the_previous_generation(
    app, client, runner, three_projects
):
    with app.app_context():
        indexer.rebuild()  # the live generation, and the previous one kept beside it
        whoosh = indexer.backend()
        segment = next((whoosh.root / whoosh.current_name()).glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])

    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 1
    assert f"сегмент не читается, файлы {segment.name}" in check.output

    titles, html = result_titles(client, q="робот", sphere="it")
    assert titles == ["Роботы на уроке технологии"]
    assert "Поиск обновляется" not in html  # the previous generation is whole

    wait_for_the_background_rebuild(app)
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_with_no_readable_generation_the_database_answers_with_paging(app, client, publish, runner):
    app.config["SEARCH_PER_PAGE"] = 2
    for number in range(3):
        publish(title=f"Проект про роботов {number}")
    root = Path(app.config["SEARCH_INDEX_DIR"])
    live = (root / "CURRENT").read_text()
    for generation in root.glob("g-*"):
        shutil.rmtree(generation)
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 1 and f"Индекс не найден: поколения {live}, на которое указывает CURRENT" in check.output

    first, html = result_titles(client, q="робот")
    second, _ = result_titles(client, q="робот", page=2)
    assert "Поиск обновляется" in html and "Найдено: <strong>3 материала</strong>" in html
    assert first + second == [f"Проект про роботов {n}" for n in (2, 1, 0)]
    wait_for_the_background_rebuild(app)


def test_a_new_site_with_nothing_published_is_not_a_broken_index(app, client):
    # No index yet because nothing was ever published: an empty answer, no notice, no rebuild
    html = client.get("/search?q=робот").get_data(as_text=True)
    assert "Поиск обновляется" not in html and fallback.rebuilding(app) is None
    # An index of nothing (a rebuild of an empty site) is searched like any other
    with app.app_context():
        assert indexer.rebuild() == 0
    response = client.get("/search?q=робот")
    assert response.status_code == 200 and "Поиск обновляется" not in response.get_data(as_text=True)
    with app.app_context():
        assert fallback.usable(indexer.backend())  # not marked unreadable

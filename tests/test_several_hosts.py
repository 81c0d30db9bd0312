"""Several hosts: two real server processes over one database, one shared MEDIA_ROOT and one search index.

Each host is its own process with its own instance folder (its page cache, compiled templates, secret key file),
as on two machines; what they share is what the README's «Несколько серверов» says must be shared: the database,
``MEDIA_ROOT`` (the NFS mount) with the search index beside it, the ``SECRET_KEY``, and Redis when configured.
A visitor's browser goes to either host, as behind a load balancer (one cookie jar: cookies ignore the port).
"""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from catalogue.contest import collection
from catalogue.extensions import db
from catalogue.jobs.models import Job, JobState
from catalogue.projects.models import Project
from catalogue.search import indexer, locks
from catalogue.taxonomy import services as taxonomy
from catalogue.taxonomy.models import AgeGroup, Sphere
from catalogue.workflow import services as workflow
from tests.contest_support import SCHOOL_A, loaded, make_entry, make_season, organization
from tests.factories import make_project
from tests.helpers import DEFAULT_PASSWORD, PDF, _CsrfMetaParser
from tests.test_page_cache import redis_server, redis_url  # noqa: F401  (the module's Redis, emptied per test)

ROOT = Path(__file__).resolve().parent.parent
SERVER = """
import json, sys
from werkzeug.serving import WSGIRequestHandler, make_server
from catalogue import create_app

class Quiet(WSGIRequestHandler):
    def log_request(self, *args):
        pass

app = create_app(json.loads(sys.argv[1]))
server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
print(server.socket.getsockname()[1], flush=True)
server.serve_forever()
"""
WORKER = """
import json, sys
from catalogue import create_app

app = create_app(json.loads(sys.argv[1]))
result = app.test_cli_runner().invoke(args=["jobs", "work", "--once"])
print(result.output, flush=True)
sys.exit(result.exit_code)
"""


def host_config(app, name: str, **settings) -> dict:
    """The test app's settings for a host of its own: its own instance folder; the database, the stored files and
    the search index of the test app (the shared mount)."""
    config = {k: v for k, v in app.config.items() if isinstance(v, str | int | float | bool | type(None))}
    shared = Path(app.instance_path)
    return config | {
        "INSTANCE_PATH": str(shared.parent / name),
        "MEDIA_ROOT": str(shared / "uploads"),
        "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        # As in production: the one indexer and the job worker run on their own (here: the test's app, a worker)
        "SEARCH_SYNC_IN_PROCESS": False,
        "JOBS_IN_PROCESS": False,
        **settings,
    }


class Host:
    """One server process of the site."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps(config)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline()
        assert line.strip().isdigit(), "the host did not start"
        self.url = f"http://127.0.0.1:{int(line)}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A person's browser: cookies kept across hosts, redirects not followed, answers as (status, headers, body)."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def request(self, url: str, data: bytes | None = None, headers: dict | None = None):
        try:
            # One name for the site, whichever host answers (the load balancer passes it on)
            headers = {"Host": "localhost", **(headers or {})}
            request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (our own hosts)
            with self.opener.open(request, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()

    def get(self, host: Host, path: str, **headers):
        return self.request(host.url + path, headers=headers)

    def visit(self, host: Host, path: str):
        """GET ``path``, following redirects on the same host."""
        for _ in range(5):
            status, headers, body = self.get(host, path)
            if status not in (301, 302, 303):
                return status, headers, body
            path = urllib.parse.urlsplit(headers["Location"])._replace(scheme="", netloc="").geturl()
        raise AssertionError(f"too many redirects at {path}")

    def post(self, host: Host, path: str, fields: dict, files: dict | None = None, page: str | None = None):
        """A form sent with the CSRF token of its ``page`` (default ``path``) on the same host."""
        fields = {"csrf_token": self.csrf_token(host, page or path), **fields}
        if not files:
            return self.request(host.url + path, urllib.parse.urlencode(fields, doseq=True).encode())
        boundary = uuid.uuid4().hex
        parts = []
        for name, values in fields.items():
            for value in values if isinstance(values, list) else [values]:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                )
        for name, (filename, content) in files.items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            parts.append(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(host.url + path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def csrf_token(self, host: Host, path: str) -> str:
        status, _headers, body = self.get(host, path)
        assert status == 200, f"GET {path} answered {status}"
        parser = _CsrfMetaParser()
        parser.feed(body.decode())
        assert parser.token, f"{path} has no CSRF token"
        return parser.token

    def login(self, host: Host, user, password: str = DEFAULT_PASSWORD):
        return self.post(host, "/auth/login", {"email": user.email, "password": password})


@pytest.fixture
def start_host(app):
    started: list[Host] = []

    def start(name: str, **settings) -> Host:
        started.append(Host(host_config(app, name, **settings)))
        return started[-1]

    yield start
    for host in started:
        host.stop()


def test_a_file_uploaded_through_one_host_is_served_by_the_other(app, start_host, make_user):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    a, b = start_host("host-a"), start_host("host-b")
    browser = Browser()
    assert browser.login(a, teacher)[0] == 303
    # The teacher's project with its attachment is saved through host A
    with app.app_context():
        age = db.session.scalar(select(AgeGroup.id).where(AgeGroup.slug == "6-7"))
        sphere = db.session.scalar(select(Sphere.id).where(Sphere.slug == "energy"))
    fields = {
        "title": "Энергия воды", "summary": "Как ГЭС делает электричество.", "goal": "Познакомить с энергетикой.",
        "age_group_ids": [str(age)], "sphere_ids": [str(sphere)], "format": "group", "duration_weeks": "4",
        "stages-0-title": "Погружение", "stages-0-description": "Экскурсия", "expected_results": "Модель турбины.",
        "resources": "",
    }  # fmt: skip
    status, headers, _body = browser.post(a, "/projects/new", fields, {"attachments": ("Методичка.pdf", PDF)})
    assert status == 303, _body.decode()[:2000]
    with app.app_context():
        project_id = db.session.scalar(select(Project.id))
    # ... and the same session, sent to host B by the load balancer, sees the draft and downloads the file there
    status, _headers, page = browser.visit(b, f"/projects/{project_id}")
    assert status == 200 and "Энергия воды" in page.decode()
    assert Path(app.instance_path, "uploads").is_dir() and not Path(b.config["INSTANCE_PATH"], "uploads").exists()
    link = page.decode().split('href="/files/', 1)[1].split('"', 1)[0]
    status, headers, body = browser.get(b, f"/files/{link}")
    assert status == 200 and body == PDF and headers["X-Content-Type-Options"] == "nosniff"
    # A visitor gets it from neither host while it is a draft
    assert Browser().get(b, f"/files/{link}")[0] == 404
    with app.test_request_context():
        project = db.session.get(Project, project_id)
        workflow.transition(db.session.merge(teacher), project, "submit")
        workflow.transition(db.session.merge(moderator), project, "publish")
    assert Browser().get(a, f"/files/{link}")[2] == PDF


def test_a_login_throttled_on_one_host_is_throttled_on_the_other(app, start_host, make_user):
    student = make_user(roles=("student",))
    a, b = start_host("host-a"), start_host("host-b")
    attacker = Browser()
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        status, _headers, page = attacker.login(a, student, password="не-тот-пароль")
        assert status == 422 and "Неверный адрес" in page.decode(), page.decode()[:500]
    # The next try, on the other host, even with the right password, waits like one on the first would
    status, _headers, page = Browser().login(b, student)
    assert "Слишком много неудачных попыток входа" in page.decode()


@pytest.mark.parametrize("store", ["files", "redis"])
def test_a_publish_on_one_host_shows_at_once_in_the_other_hosts_cached_pages(
    app, start_host, make_user, store, request
):
    teacher, moderator = make_user(roles=("teacher",)), make_user(roles=("moderator",))
    settings = {"PAGE_CACHE": True}
    if store == "redis":
        settings["PAGE_CACHE_REDIS_URL"] = request.getfixturevalue("redis_url")
    a, b = start_host("host-a", **settings), start_host("host-b", **settings)
    with app.test_request_context():
        waiting = make_project(teacher, "submitted", title="Юный гидролог").id
    visitor = Browser()
    # Host B keeps the catalogue for visitors: the second request is a hit
    assert visitor.get(b, "/projects/")[1]["X-Page-Cache"] == "miss"
    status, headers, page = visitor.get(b, "/projects/")
    assert headers["X-Page-Cache"] == "hit" and "Юный гидролог" not in page.decode()
    # The moderator publishes through host A
    staff = Browser()
    assert staff.login(a, moderator)[0] == 303
    status, _headers, _body = staff.post(a, f"/workflow/project/{waiting}/publish", {"comment": ""}, page="/")
    assert status == 303
    # Host B's next answer is the new page, at once
    status, headers, page = visitor.get(b, "/projects/")
    assert headers["X-Page-Cache"] == "miss" and "Юный гидролог" in page.decode()
    assert visitor.get(b, "/projects/")[1]["X-Page-Cache"] == "hit"
    if store == "redis":  # one store for both: host A is served what host B put there
        assert visitor.get(a, "/projects/")[1]["X-Page-Cache"] == "hit"


def test_a_job_queued_through_one_host_is_done_by_the_other_hosts_worker_and_served_by_both(app, start_host, make_user):
    with app.app_context():
        people = loaded(
            {
                "admin": make_user(roles=("admin",)),
                "moderator": make_user(roles=("moderator",)),
                "student": make_user(roles=("student",), organization=organization(SCHOOL_A)),
            }
        )
    with app.test_request_context():
        season = make_season(people["admin"])
        make_entry(people["student"], season, "published", people["moderator"], title="Мост через Ангару")
    a, b = start_host("host-a"), start_host("host-b")
    visitor = Browser()
    # The first visitor through host A queues the build
    status, _headers, page = visitor.get(a, "/contest/2027/collection.pdf")
    assert status == 200 and "Сборник готовится" in page.decode()
    with app.app_context():
        assert db.session.scalar(select(Job.state).where(Job.kind == collection.KIND)) == JobState.QUEUED
    # The job worker of host B builds it
    worker = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(b.config)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    with app.app_context():
        assert db.session.scalar(select(Job.state).where(Job.kind == collection.KIND)) == JobState.DONE
    # ... into the shared storage, so both hosts serve the file
    for host in (a, b):
        status, headers, body = visitor.get(host, "/contest/2027/collection.pdf")
        assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF")


def test_what_a_host_keeps_in_its_process_follows_changes_made_through_another(app, start_host, make_user):
    teacher, moderator, admin = (make_user(roles=(role,)) for role in ("teacher", "moderator", "admin"))
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Юный энергетик")
    b = start_host("host-b")
    reader = Browser()
    assert reader.login(b, teacher)[0] == 303  # logged in: pages made per request, their pieces kept per process
    page = reader.get(b, "/projects/")[2].decode()
    assert "Энергетика" in page and "Гидроэнергетика Приангарья" not in page
    # An administrator renames the sphere through another host (the test's own app)
    with app.app_context():
        energy = db.session.scalar(select(Sphere).where(Sphere.slug == "energy"))
        taxonomy.save_sphere(
            db.session.merge(admin), energy, taxonomy.SphereData("energy", "Гидроэнергетика Приангарья")
        )
    assert "Гидроэнергетика Приангарья" in reader.get(b, "/projects/")[2].decode()
    # A project published through the other host, applied by the one indexer, is found by host B's search
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Ледокольный флот")
    with app.app_context():
        assert indexer.sync(lock_timeout=10.0).error is None
    status, _headers, page = Browser().get(b, "/search?q=" + urllib.parse.quote("ледокольный"))
    assert status == 200 and "Ледокольный флот" in re.sub(r"<[^>]+>", "", page.decode())  # words highlighted


def test_the_index_lock_of_a_writer_on_another_host_is_never_broken(tmp_path):
    # The indexer of host A holds the lock of the shared index; host B cannot see A's processes, so the pid
    # recorded (absent here) must not pass for a dead writer's
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        record = json.loads((tmp_path / locks.HOLDER).read_text())
        assert record["host"] == os.uname().nodename
        record.update(pid=2**22 + 1, host="host-a.example")  # beyond pid_max: no such process here
        (tmp_path / locks.HOLDER).write_text(json.dumps(record))
        with pytest.raises(locks.IndexUnavailable, match="another process"), locks.write_lock(tmp_path, timeout=0.5):
            pass
        assert locks.dead_holder(tmp_path) is None  # `search check` has nothing to report either
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from catalogue.search import indexer, locks
from catalogue.taxonomy import services as taxonomy
with locks.write_lock(Path(sys.argv[1]), timeout=5):
    print("held", flush=True)
    time.sleep(60)
"""

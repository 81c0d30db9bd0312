#!/usr/bin/env python3
"""The production recipe of the README, started for real and tried: ``make stack-check``.

On a machine with PostgreSQL running and nginx installed: a fresh database, a throw-away instance folder, the
migrations and the taxonomies, a self-signed certificate, the README's nginx site and gunicorn command line, the
indexer and the job worker, all as child processes of this script. Then a smoke test through nginx over HTTPS with
the site's own forms, and faults: ``kill -9`` of a gunicorn worker, of the indexer, of a rebuild, of the job worker.
Prints a report; exits 1 on any failure. Run it with the project's virtualenv (``.venv/bin/python``).

    deploy/stack_check.py [--database-url postgresql+psycopg://catalogue:catalogue@127.0.0.1:5432/catalogue_stack]
                          [--keep]   # leave the temporary folder (logs, instance) for a look

The database named by the URL is dropped and created again: as root through ``runuser -u postgres -- psql`` (as
``.ci/run`` does), otherwise by the URL's own role, which then needs ``CREATEDB``.
"""

# It runs the project's own commands (S603, S607), opens this run's own https:// addresses (S310), and signs in
# throw-away accounts of a throw-away database with a fixed password (S105).
# ruff: noqa: S105, S310, S603, S607

import argparse
import datetime as dt
import html.parser
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
README = ROOT / "README.md"
FIXTURE_MODEL = ROOT / "tests" / "fixtures" / "3d" / "20mm-xyz-cube.stl"
PASSWORD = "stack-check-пароль-1"
DEFAULT_DATABASE_URL = "postgresql+psycopg://catalogue:catalogue@127.0.0.1:5432/catalogue_stack"


class CheckFailed(Exception):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# -- the README's recipe ------------------------------------------------------------------------------------------


def readme_stack_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### The stack: systemd and nginx")
    return text[start : text.index("\n### ", start + 1)]


def readme_environment() -> dict[str, str]:
    """The settings with values in the README's list of ``/etc/catalogue.env``."""
    section = readme_stack_section()
    start = section.index("`/etc/catalogue.env` holds the environment (")
    listed = dict(re.findall(r"`([A-Z][A-Z0-9_]*)=([^`]*)`", section[start : section.index(")", start)]))
    check(listed.get("SEARCH_SYNC_IN_PROCESS") == "0", "README: /etc/catalogue.env without SEARCH_SYNC_IN_PROCESS=0")
    return listed


def readme_gunicorn_arguments(workers: int, port: int, app: str) -> list[str]:
    """The web unit's ExecStart, with ``workers`` processes on ``port`` and ``app`` for the README's factory."""
    section = readme_stack_section()
    match = re.search(r"ExecStart=\S*/gunicorn ((?:[^\n]*\\\n)*[^\n]*)", section)
    check(match, "README: the web unit's gunicorn ExecStart not found")
    words = match.group(1).replace("\\\n", " ").split()
    arguments = []
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
            continue
        if word == "-w":
            arguments += ["-w", str(workers)]
            skip = True
        elif word == "-b":
            check(words[i + 1] == "127.0.0.1:8000", "README: gunicorn is expected to bind 127.0.0.1:8000")
            arguments += ["-b", f"127.0.0.1:{port}"]
            skip = True
        elif word == "'catalogue:create_app()'":
            arguments.append(app)
        else:
            arguments.append(word)
    check(app in arguments, "README: gunicorn is expected to serve 'catalogue:create_app()'")
    return arguments


def readme_nginx_site(paths: dict[str, str]) -> str:
    """The README's nginx site with this run's ports, folders and certificate."""
    section = readme_stack_section()
    match = re.search(r"```nginx\n(.*?)```", section, re.S)
    check(match, "README: the nginx site not found")
    site = match.group(1)
    for old, new in paths.items():
        check(old in site, f"README's nginx site: «{old}» not found")
        site = site.replace(old, new)
    return site


# -- processes ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, folder: Path, database_url: str):
        self.folder = folder
        self.instance = folder / "instance"
        self.instance.mkdir()
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.http_port, self.https_port, self.web_port = free_port(), free_port(), free_port()
        self.site_url = f"https://127.0.0.1:{self.https_port}"
        metrics = folder / "metrics"
        metrics.mkdir()
        # The README's /etc/catalogue.env, on an environment of nothing else: no setting of the caller's leaks in.
        kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")
        self.env = {name: os.environ[name] for name in kept if name in os.environ}
        self.env.update(readme_environment())
        self.env.update({
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "SITE_URL": self.site_url,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "PYTHONUNBUFFERED": "1",
        })  # fmt: skip
        self.app = f'catalogue:create_app({{"INSTANCE_PATH": "{self.instance}"}})'
        self.processes: dict[str, subprocess.Popen] = {}

    def flask(self, *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", self.app, *arguments],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if result.returncode:
            raise CheckFailed(f"flask {' '.join(arguments)}: exit {result.returncode}\n{result.stderr[-2000:]}")
        return result

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (the child writes to it)
        process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes[name] = process
        return process

    def start_flask(self, name: str, *arguments: str) -> subprocess.Popen:
        return self.start(name, [str(VENV_BIN / "flask"), "--app", self.app, *arguments])

    def restart(self, name: str, *arguments: str) -> subprocess.Popen:
        """As systemd's ``Restart=always`` would, once the process is gone."""
        self.processes[name].wait(timeout=30)
        return self.start_flask(name, *arguments)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def alive(self, name: str) -> None:
        process = self.processes[name]
        check(process.poll() is None, f"{name} stopped (exit {process.returncode}); see {self.logs / name}.log")


def create_database(url: str) -> None:
    parts = urllib.parse.urlsplit(url.replace("+psycopg", ""))
    name, owner = parts.path.lstrip("/"), parts.username
    for what, word in (("database", name), ("role", owner)):
        check(re.fullmatch(r"[a-z_][a-z0-9_]*", word or ""), f"{what} name «{word}»: lower-case letters, digits, _")
    statements = [
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"CREATE DATABASE {name} OWNER {owner} ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0",
    ]
    if os.geteuid() == 0:
        for statement in statements:
            subprocess.run(
                ["runuser", "-u", "postgres", "--", "psql", "-p", str(parts.port or 5432), "-v", "ON_ERROR_STOP=1",
                 "-q", "-c", "SET client_min_messages = warning", "-c", statement],
                check=True, cwd="/",
            )  # fmt: skip
        return
    import psycopg

    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def write_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    return certificate, key


def write_nginx(stack: Stack, certificate: Path, key: Path) -> list[str]:
    """nginx of its own: prefix, pid, logs and temporary files in the folder; the README's site inside."""
    prefix = stack.folder / "nginx"
    prefix.mkdir()
    site = readme_nginx_site({
        "listen 80;": f"listen 127.0.0.1:{stack.http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{stack.https_port} ssl http2;",
        "server_name proforientir.example;": "server_name 127.0.0.1;",
        "/etc/ssl/proforientir/fullchain.pem": str(certificate),
        "/etc/ssl/proforientir/privkey.pem": str(key),
        "/srv/catalogue/static/": f"{ROOT / 'static'}/",
        "/srv/catalogue/instance/": f"{stack.instance}/",
        "http://127.0.0.1:8000": f"http://127.0.0.1:{stack.web_port}",
        # On a port other than 443 the Host must keep it: the CSRF check compares the Referer with it.
        "proxy_set_header Host $host;": "proxy_set_header Host $host:$server_port;",
    })  # fmt: skip
    mime = Path("/etc/nginx/mime.types")
    # As root nginx's workers would run as nobody, who may not enter the clone's folder (/root/…); production's
    # www-data reads /srv/catalogue, which is world-readable.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {stack.logs}/nginx-error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        + (f"    include {mime};\n" if mime.exists() else "")
        + "    default_type application/octet-stream;\n    sendfile on;\n"
        + "".join(
            f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + "    log_format stack '$status $request_method $request_uri accel=$upstream_http_x_accel_redirect';\n"
        f"    access_log {stack.logs}/nginx-access.log stack;\n"
        + "".join(f"    {line}\n" for line in site.splitlines())
        + "}\n",
        encoding="utf-8",
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check(Path(nginx).exists(), "nginx is not installed (apt-get install nginx)")
    command = [nginx, "-p", str(prefix), "-e", str(stack.logs / "nginx-error.log"), "-c", str(conf)]
    test = subprocess.run([*command, "-t"], capture_output=True, text=True)
    check(test.returncode == 0, f"nginx -t: {test.stderr}")
    return [*command, "-g", "daemon off;"]


# -- a visitor with a browser's manners: cookies, forms with their CSRF tokens ----------------------------------------


class Forms(html.parser.HTMLParser):
    """Every form of a page: action, method, enctype and its fields as a browser would send them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action") or "",
                "method": (a.get("method") or "get").lower(),
                "enctype": a.get("enctype") or "",
                "fields": [],
                "buttons": [],
                "names": set(),
                "choices": {},
            }
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            form["names"].add(name)
            if kind in ("submit", "image"):
                form["buttons"].append((name, a.get("value") or ""))
            elif kind in ("checkbox", "radio"):
                form["choices"].setdefault(name, []).append(a.get("value") or "on")
                if "checked" in a:
                    form["fields"].append([name, a.get("value") or "on"])
            elif kind != "file":
                form["fields"].append([name, a.get("value") or ""])
        elif tag == "button" and name:
            form["buttons"].append((name, a.get("value") or ""))
        elif tag == "select" and name:
            form["names"].add(name)
            self._select = {"name": name, "first": None, "chosen": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._form is not None:
                self._form["choices"].setdefault(self._select["name"], []).append(value)
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["chosen"] = value
        elif tag == "textarea" and name:
            form["names"].add(name)
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = self._select["chosen"] if self._select["chosen"] is not None else self._select["first"]
            if chosen is not None:
                self._form["fields"].append([self._select["name"], chosen])
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"].append([self._textarea[0], self._textarea[1].lstrip("\n")])
            self._textarea = None


class Browser:
    def __init__(self, site_url: str, certificate: Path):
        self.site_url = site_url
        context = ssl.create_default_context(cafile=str(certificate))
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(self.cookies)
        )
        self.last_url = site_url + "/"

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None, ok=(200,)):
        url = urllib.parse.urljoin(self.last_url, path)
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            response = self.opener.open(request, timeout=120)
            status, body, headers_in, final = response.status, response.read(), response.headers, response.url
        except urllib.error.HTTPError as e:
            status, body, headers_in, final = e.code, e.read(), e.headers, e.url
        if ok and status not in ok:
            text = body.decode("utf-8", "replace")
            errors = re.findall(r'class="[^"]*(?:error|invalid)[^"]*"[^>]*>([^<]{1,300})', text)
            main = re.search(r"<main.*?</main>", text, re.S)
            words = " ".join(re.sub(r"<[^>]+>", " ", main.group(0) if main else text).split())[:400]
            raise CheckFailed(f"{'POST' if data else 'GET'} {path}: {status} {' | '.join(errors)[:600]} {words}")
        if final and (headers_in.get_content_type() == "text/html"):
            self.last_url = final
        return Response(status, body, headers_in, final)

    def get(self, path: str, **kw) -> "Response":
        return self.request(path, **kw)

    def submit(self, path: str, fields: dict | None = None, form: str | None = None, button: str | None = None,
               files: dict | None = None, ok=(200,)) -> "Response":  # fmt: skip
        """Open ``path``, fill the form (the one whose action contains ``form``, or that has the first of
        ``fields``) with ``fields`` and send it with ``button`` (a button's name, or its name=value)."""
        page = self.get(path)
        return self.send(page, fields or {}, form=form, button=button, files=files, ok=ok)

    def act(self, path: str, type_key: str, item_id: int, action: str) -> "Response":
        """A workflow button of the page at ``path`` (its form's CSRF token, the button's address)."""
        page = self.get(path)
        return self.send(
            page, {}, form=f"/workflow/{type_key}/{item_id}/", action=f"/workflow/{type_key}/{item_id}/{action}"
        )

    def send(self, page, fields, form=None, button=None, files=None, ok=(200,), action=None):
        chosen = page.form(form=form, field=next(iter(fields), None) if form is None else None)
        if action:
            chosen = {**chosen, "action": action, "method": "post"}
        values = [list(f) for f in chosen["fields"] if f[0] not in fields]
        for name, value in fields.items():
            for v in value if isinstance(value, list) else [value]:
                values.append([name, str(v)])
        if button:
            name, _, value = button.partition("=")
            values.append([name, value or dict(chosen["buttons"]).get(name, "")])
        action = urllib.parse.urljoin(page.url, chosen["action"] or page.url)
        if chosen["method"] == "get":
            return self.request(action.split("?")[0] + "?" + urllib.parse.urlencode([tuple(v) for v in values]), ok=ok)
        if files or "multipart" in chosen["enctype"]:
            data, content_type = multipart(values, files or {})
        else:
            data, content_type = (
                urllib.parse.urlencode([tuple(v) for v in values]).encode(),
                "application/x-www-form-urlencoded",
            )
        # As a browser does: over HTTPS the CSRF check wants the page the form came from.
        return self.request(action, data=data, headers={"Content-Type": content_type, "Referer": page.url}, ok=ok)

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.cookies.clear()
        self.submit("/auth/login", {"email": email, "password": password}, form="/auth/login", ok=(200,))

    def log_out(self) -> None:
        self.cookies.clear()


class Response:
    def __init__(self, status, body, headers, url):
        self.status, self.body, self.headers, self.url = status, body, headers, url

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def words(self) -> str:
        """The page's text without tags (a search highlights words with <mark>)."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.text)).split())

    def form(self, form: str | None = None, field: str | None = None) -> dict:
        parser = Forms()
        parser.feed(self.text)
        for candidate in parser.forms:
            if form is not None and form in candidate["action"]:
                return candidate
            if form is None and field is not None and field in candidate["names"]:
                return candidate
        raise CheckFailed(f"{self.url}: no form {form or ''} {field or ''}")


def multipart(values: list, files: dict) -> tuple[bytes, str]:
    boundary = "----stack-check-" + secrets.token_hex(8)
    chunks = []
    for name, value in values:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() +
                      value.encode() + b"\r\n")  # fmt: skip
    for name, path in files.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{Path(path).name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + Path(path).read_bytes()
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


# -- the run --------------------------------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.lines: list[str] = []
        self.started = time.monotonic()

    def ok(self, text: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f} s] ok  {text}"
        self.lines.append(line)
        print(line, flush=True)


def wait_for(what: str, condition, timeout: float = 60, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        check(time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def found(browser: Browser, words: str, title: str) -> bool:
    page = browser.get("/search?" + urllib.parse.urlencode({"q": words}))
    return title in page.words


def first_choice(page: Response, form: str, name: str) -> str:
    values = [v for v in page.form(form=form)["choices"].get(name, []) if v]
    check(values, f"{page.url}: no choice for {name}")
    return values[0]


def item_id(response: Response, pattern: str) -> int:
    match = re.search(pattern, urllib.parse.urlsplit(response.url).path)
    check(match, f"expected an address like {pattern}, got {response.url}")
    return int(match.group(1))


def register(browser: Browser, role: str, email: str, last: str, first: str, **extra) -> None:
    browser.log_out()
    page = browser.get("/auth/register")
    irkutsk = re.search(r'<option value="(\d+)"[^>]*>\s*город Иркутск\s*<', page.text)
    check(irkutsk, "registration: no municipality «город Иркутск»")
    fields = {"role": role, "last_name": last, "first_name": first, "email": email, "password": PASSWORD,
              "password_confirm": PASSWORD, "municipality_id": irkutsk.group(1), **extra}  # fmt: skip
    page = browser.send(page, {**fields, "organization_query": "СОШ № 19"}, form="/auth/register",
                        button="find_organization=1")  # fmt: skip
    organization = first_choice(page, "/auth/register", "organization_id")
    page = browser.send(page, {**fields, "organization_id": organization, "consent": "y"}, form="/auth/register")
    check("Проверьте почту" in page.text, f"registration of {email}: no «Проверьте почту»")


def run(arguments) -> Report:
    report = Report()
    folder = Path(tempfile.mkdtemp(prefix="stack-check-"))
    if os.geteuid() == 0:
        folder.chmod(0o755)
    print(f"stack-check: {folder}", flush=True)
    stack = Stack(folder, arguments.database_url)
    try:
        setup(stack, report)
        smoke_and_faults(stack, report)
    except CheckFailed:
        for log in sorted(stack.logs.glob("*.log")):  # what CI keeps of the processes
            lines = log.read_text(errors="replace").splitlines()[-12:]
            print(f"\n--- {log.name} (last lines)\n" + "\n".join(line[:400] for line in lines), file=sys.stderr)
        raise
    finally:
        stack.stop_all()
        if arguments.keep:
            print(f"stack-check: kept {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return report


def setup(stack: Stack, report: Report) -> None:
    create_database(stack.env["DATABASE_URL"])
    stack.flask("init-db")
    report.ok("a fresh database: migrations and taxonomies (flask init-db)")
    stack.certificate, key = write_certificate(stack.folder)
    nginx = write_nginx(stack, stack.certificate, key)
    stack.start("web", [str(VENV_BIN / "gunicorn"), *readme_gunicorn_arguments(2, stack.web_port, stack.app)])
    stack.start_flask("indexer", "search", "sync", "--watch")
    stack.start_flask("jobs", "jobs", "work")
    stack.start("nginx", nginx)
    # The staff's accounts as an administrator makes them, while the services start
    people = [
        ("admin@stack.example", "admin"),
        ("moderator@stack.example", "moderator"),
        ("jury@stack.example", "jury"),
    ]
    errors = []

    def create_user(email, role):
        try:
            stack.flask("create-user", "--email", email, "--last-name", "Проверкина", "--first-name", "Анна",
                        f"--role={role}", "--password", PASSWORD)  # fmt: skip
        except CheckFailed as e:
            errors.append(e)

    threads = [threading.Thread(target=create_user, args=person) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(not errors, "; ".join(map(str, errors)))
    browser = Browser(stack.site_url, stack.certificate)
    wait_for("the site through nginx", lambda: _answers(browser), timeout=90)
    for name in stack.processes:
        stack.alive(name)
    report.ok(f"admin, moderator, juror (flask create-user); gunicorn (2 workers), indexer, job worker, nginx on "
              f"{stack.site_url}")  # fmt: skip


def _answers(browser: Browser) -> bool:
    try:
        return browser.get("/healthz", ok=None).status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def nginx_sent(stack: Stack, uri: str, internal: str) -> None:
    """nginx's access log shows ``uri`` answered with the body of an ``X-Accel-Redirect`` to ``internal``."""
    line = f"200 GET {uri} accel={internal}"
    log = stack.logs / "nginx-access.log"
    wait_for(f"nginx sending {uri} by X-Accel-Redirect to {internal}", lambda: line in log.read_text(), timeout=10)


def season_dates(phase: str) -> dict:
    """Season dates that put today in ``phase``, with days to spare (the season follows Irkutsk's date)."""
    today = dt.date.today()

    def day(n):
        return (today + dt.timedelta(days=n)).isoformat()

    return {
        "accepting": {"submission_opens": day(-5), "submission_closes": day(5), "judging_opens": day(6),
                      "judging_closes": day(15), "results_date": day(16)},
        "judging": {"submission_opens": day(-20), "submission_closes": day(-10), "judging_opens": day(-5),
                    "judging_closes": day(5), "results_date": day(6)},
        "results": {"submission_opens": day(-40), "submission_closes": day(-30), "judging_opens": day(-20),
                    "judging_closes": day(-10), "results_date": day(-9)},
    }[phase]  # fmt: skip


def smoke(stack: Stack, report: Report) -> dict:
    """Register, submit, moderate, search, a contest entry with a real model, results, the collection."""
    b = Browser(stack.site_url, stack.certificate)
    made = {"projects": [], "entries": []}
    teacher, student = "teacher@stack.example", "student@stack.example"

    register(b, "teacher", teacher, "Кузнецова", "Марина")
    b.log_in("admin@stack.example")
    page = b.get("/account/teachers")
    match = re.search(r'action="(/account/teachers/(\d+)/verify)"', page.text)
    check(match, "the administrator does not see the new teacher to confirm")
    b.send(page, {}, form=match.group(1))
    report.ok("a teacher registers (organization found by the no-JavaScript search); the administrator confirms")

    b.log_in(teacher)
    title = "Юные энергетики Приангарья"
    page = b.get("/projects/new")
    page = b.send(page, {
        "title": title, "summary": "Обучающиеся знакомятся с профессиями гидроэнергетики.",
        "goal": "Познакомить с профессиями ГЭС.", "age_group_ids": first_choice(page, "/projects/new", "age_group_ids"),
        "sphere_ids": first_choice(page, "/projects/new", "sphere_ids"), "format": "group", "duration_weeks": "4",
        "stages-0-title": "Экскурсия на ГЭС", "stages-0-description": "Машинный зал и пульт управления.",
        "expected_results": "Обучающиеся называют пять профессий энергетики.",
    }, form="/projects/new")  # fmt: skip
    project = item_id(page, r"^/projects/(\d+)")
    b.act(page.url, "project", project, "submit")
    report.ok(f"the teacher writes project {project} and sends it to moderation")

    b.log_in("moderator@stack.example")
    b.act(f"/moderation/project/{project}", "project", project, "publish")
    page = b.get(f"/projects/{project}")
    check(title in page.text, "the published project's page does not show its title")
    made["projects"].append((project, title))
    wait_for("the project in search («энергетиками»)", lambda: found(b, "энергетиками", title), timeout=30)
    report.ok("the moderator publishes it; search finds it by another word form («энергетиками»)")

    year = time.gmtime().tm_year
    b.log_in("admin@stack.example")
    page = b.get("/contest/admin/new")
    page = b.send(page, {"year": str(year), "title": f"СоЗДатель-{year}", "rules": "Положение о конкурсе.",
                         **season_dates("accepting")}, form="/contest/admin/new")  # fmt: skip
    base = f"/contest/admin/{year}"
    b.submit(f"{base}/nominations/new", {"name": "Техника будущего"}, form="/nominations/new")
    b.submit(f"{base}/categories/new", {"name": "9–11 классы", "grade_from": "9", "grade_to": "11"},
             form="/categories/new")  # fmt: skip
    b.submit(f"{base}/criteria/new", {"name": "Сложность модели", "max_score": "10", "weight": "1"},
             form="/criteria/new")  # fmt: skip
    page = b.get(f"{base}/")
    b.send(page, {"nomination_id": first_choice(page, "/jury", "nomination_id"),
                  "juror_id": first_choice(page, "/jury", "juror_id")}, form=f"{base}/jury")  # fmt: skip
    report.ok(f"the administrator sets up season {year}: a nomination, a category, a criterion, a juror")

    register(b, "student", student, "Тимофеев", "Глеб", grade="10", birth_date="2010-05-01")
    b.log_in(student)
    page = b.get(f"/contest/{year}/submit")
    form = f"/contest/{year}/submit"
    entry_title = "Куб для калибровки принтера"
    page = b.send(page, {
        "nomination_id": first_choice(page, form, "nomination_id"),
        "age_category_id": first_choice(page, form, "age_category_id"),
        "title": entry_title, "description": "Калибровочный куб 20 мм: с него начинается работа оператора 3D-печати.",
        "software": "Blender", "consent_processing": "y", "consent_publication": "y", "consent_giver": "self",
    }, form=form, files={"model": FIXTURE_MODEL})  # fmt: skip
    entry = item_id(page, r"^/contest/entries/(\d+)")
    check("260 треугольников" in page.text, "the entry's page does not describe the model (260 triangles)")
    b.act(page.url, "entry", entry, "submit")
    report.ok(f"a student registers and submits entry {entry} with a real STL ({FIXTURE_MODEL.name})")

    b.log_in("moderator@stack.example")
    b.act(f"/moderation/entry/{entry}", "entry", entry, "publish")
    made["entries"].append((entry, entry_title))
    b.log_in("admin@stack.example")
    b.submit(f"{base}/edit", season_dates("judging"), form=f"{base}/edit")
    b.log_in("jury@stack.example")
    page = b.get(f"/contest/jury/entries/{entry}")
    scores = {
        name: "9" for name in page.form(form=f"/contest/jury/entries/{entry}")["names"] if name.startswith("score_")
    }
    check(scores, "the juror's form has no scores")
    b.send(page, scores, form=f"/contest/jury/entries/{entry}")
    b.log_in("admin@stack.example")
    b.submit(f"{base}/edit", season_dates("results"), form=f"{base}/edit")
    b.submit(f"{base}/results", {}, form=f"{base}/results", button="action=confirm")
    page = b.get(f"{base}/results")
    b.send(page, {}, form=f"{base}/results/publish")
    report.ok("the moderator admits it, the juror scores it, the administrator confirms and publishes the results")

    b.log_out()
    page = b.get(f"/contest/entries/{entry}")
    static = re.search(r'(?:href|src)="(/static/[^"?]+)', page.text)
    check(static, "the entry's page links no static file")
    response = b.get(static.group(1))
    check(response.headers.get("Expires"), f"{static.group(1)} was not sent by nginx's /static/ location")
    model = re.search(r'(?:href|src)="(/files/[^"]+)"', page.text)
    check(model, "the entry's page links no file of the entry")
    response = b.get(model.group(1))
    check(response.body, f"{model.group(1)}: empty")
    nginx_sent(stack, model.group(1), "/_uploads/")
    report.ok(f"nginx sends static files itself and the entry's files by X-Accel-Redirect ({model.group(1)})")
    wait_for("the entry in search", lambda: found(b, "калибровочный", entry_title), timeout=30)

    def collection():
        response = b.get(f"/contest/{year}/collection.pdf", ok=None)
        return response if response.headers.get_content_type() == "application/pdf" else None

    pdf = wait_for("the collection PDF (built by the job worker)", collection, timeout=90, every=1)
    check(pdf.body.startswith(b"%PDF-"), "the collection is not a PDF")
    check(pdf.headers.get("Server", "").startswith("nginx"), "the collection was not served by nginx")
    nginx_sent(stack, f"/contest/{year}/collection.pdf", "/_collections/")
    report.ok(f"the job worker builds the collection; nginx sends it by X-Accel-Redirect ({len(pdf.body):,} bytes)")
    made["browser"], made["year"] = b, year
    return made


def query(stack: Stack, sql: str, *parameters):
    import psycopg

    with psycopg.connect(stack.env["DATABASE_URL"].replace("+psycopg", "")) as connection:
        return connection.execute(sql, parameters).fetchall()


def publish_project(teacher: Browser, moderator: Browser, title: str) -> int:
    """The teacher writes and sends a project, the moderator publishes it: the site's own forms."""
    page = teacher.get("/projects/new")
    page = teacher.send(page, {
        "title": title, "summary": f"{title}: знакомство с профессиями края.", "goal": "Знакомство с профессиями.",
        "age_group_ids": first_choice(page, "/projects/new", "age_group_ids"), "format": "group",
        "duration_weeks": "2", "stages-0-title": "Экскурсия", "expected_results": "Обучающиеся знают профессии.",
    }, form="/projects/new")  # fmt: skip
    project = item_id(page, r"^/projects/(\d+)")
    teacher.act(page.url, "project", project, "submit")
    moderator.act(f"/moderation/project/{project}", "project", project, "publish")
    return project


def gunicorn_workers(stack: Stack) -> set[int]:
    """The pids whose parent is gunicorn's master."""
    master, workers = stack.processes["web"].pid, set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, …
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            workers.add(int(stat.parent.name))
    return workers


def kill_a_web_worker(stack: Stack, report: Report) -> None:
    """``kill -9`` of one gunicorn worker while two clients keep asking: the master starts another."""
    results: list[tuple[float, int]] = []
    stop = threading.Event()

    def client(email):
        browser = Browser(stack.site_url, stack.certificate)
        browser.log_in(email)
        while not stop.is_set():
            for path in ("/account/", "/projects/mine"):
                try:
                    status = browser.get(path, ok=None).status
                except (urllib.error.URLError, ConnectionError, OSError):
                    status = 0
                results.append((time.monotonic(), status))

    threads = [threading.Thread(target=client, args=(e,)) for e in ("teacher@stack.example", "admin@stack.example")]
    for thread in threads:
        thread.start()
    try:
        wait_for("requests before the kill", lambda: len(results) >= 10, timeout=60, every=0.05)
        before = gunicorn_workers(stack)
        check(len(before) == 2, f"gunicorn runs {len(before)} workers, not 2")
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        replaced = wait_for("a new gunicorn worker", lambda: len(gunicorn_workers(stack) - before) == 1, timeout=60)
        replaced_at = time.monotonic()
        wait_for("20 requests after the new worker started",
                 lambda: sum(1 for t, _ in results if t > replaced_at) >= 20, timeout=60, every=0.05)  # fmt: skip
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=130)
    failed = [s for _, s in results if s != 200]
    after = [s for t, s in results if t > replaced_at + 0.001]
    stack.alive("web")
    check(replaced and victim not in gunicorn_workers(stack), "the killed worker was not replaced")
    check(all(s == 200 for s in after[-20:]), f"requests after the restart failed: {after[-20:]}")
    check(len(failed) <= 2, f"{len(failed)} requests failed around the kill (at most one per client may)")
    report.ok(
        f"kill -9 of gunicorn worker {victim}: replaced in {replaced_at - killed_at:.1f} s; "
        f"{len(results)} requests, {len(failed)} failed ({', '.join(map(str, failed)) or 'none'}), all after it did not"
    )


def kill_the_indexer(stack: Stack, report: Report, teacher: Browser, moderator: Browser, made: dict) -> None:
    """``kill -9`` of the indexer as changes are made; restarted as systemd would, it catches up on them all."""
    titles = [("Юные геологи Саян", "геологов"), ("Юные лесники Прибайкалья", "лесников"),
              ("Юные строители Ангарска", "строителей")]  # fmt: skip
    published = [publish_project(teacher, moderator, titles[0][0])]
    os.kill(stack.processes["indexer"].pid, signal.SIGKILL)  # likely while it applies that change
    published += [publish_project(teacher, moderator, title) for title, _ in titles[1:]]
    stack.restart("indexer", "search", "sync", "--watch")
    for (title, word), project in zip(titles, published, strict=True):
        made["projects"].append((project, title))
        wait_for(f"«{title}» in search after the indexer's restart", lambda t=title, w=word: found(teacher, w, t),
                 timeout=60, every=0.5)  # fmt: skip
    report.ok("kill -9 of the indexer while 3 projects are published; restarted, it indexes all 3")


def kill_a_rebuild(stack: Stack, report: Report, teacher: Browser, moderator: Browser, made: dict) -> None:
    """``kill -9`` of ``search rebuild`` halfway, its new index half written and the write lock held: search keeps
    answering, the indexer breaks the dead writer's lock and goes on, the next rebuild clears the half-written index,
    and ``search check`` finds nothing wrong."""
    index = stack.instance / "search"
    before = {p.name for p in index.glob("g-*")}
    rebuild = stack.start_flask("rebuild", "search", "rebuild")

    def halfway():
        if rebuild.poll() is not None:
            return "finished"
        started = {p.name for p in index.glob("g-*")} - before
        return started.pop() if started else None

    generation = wait_for("the rebuild writing a new index", halfway, timeout=60, every=0.002)
    check(generation != "finished", f"the rebuild ended before it could be killed; see {stack.logs}/rebuild.log")
    os.kill(rebuild.pid, signal.SIGKILL)
    rebuild.wait()
    check((index / generation).is_dir(), "the killed rebuild left no half-written index to recover from")
    project, title = made["projects"][0]
    check(found(teacher, "энергетиками", title), "search stopped answering after the rebuild was killed")
    title = "Юные химики Усолья"
    project = publish_project(teacher, moderator, title)
    made["projects"].append((project, title))
    wait_for("a change after the killed rebuild in search", lambda: found(teacher, "химиков", title), timeout=60,
             every=0.5)  # fmt: skip
    stack.flask("search", "rebuild")
    check(not (index / generation).exists(), f"the next rebuild left the half-written index {generation}")
    report.ok("kill -9 of search rebuild halfway: search answers, the indexer goes on, the next rebuild clears up")


def check_search(stack: Stack, when: str) -> None:
    """``search check`` exits 0 and finds the index matching the database."""
    output = stack.flask("search", "check").stdout.strip()
    check(output.endswith("Индекс соответствует базе данных."), f"search check {when}: {output}")


def kill_the_job_worker(stack: Stack, report: Report, admin: Browser, year: int) -> None:
    """``kill -9`` of the job worker during the collection's build; the next worker finishes it, once."""
    last = query(stack, "SELECT coalesce(max(id), 0) FROM job")[0][0]
    admin.submit(f"/contest/admin/{year}/", {}, form=f"/contest/admin/{year}/collection")

    def running():
        rows = query(stack, "SELECT id, state FROM job WHERE id > %s AND kind = 'contest.collection'", last)
        return rows[0][0] if rows and rows[0][1] == "running" else None

    job_id = wait_for("the worker taking the collection's build", running, timeout=60, every=0.02)
    os.kill(stack.processes["jobs"].pid, signal.SIGKILL)
    killed_at = time.monotonic()
    stack.restart("jobs", "jobs", "work")

    def done():
        state, attempts = query(stack, "SELECT state, attempts FROM job WHERE id = %s", job_id)[0]
        check(state in ("running", "done"), f"job {job_id} is {state}")
        return (state, attempts) if state == "done" else None

    _, attempts = wait_for("the next worker finishing the build", done, timeout=120, every=0.5)
    check(attempts == 2, f"the build ran {attempts} times, not twice (killed once, finished once)")
    builds = query(stack, "SELECT count(*) FROM job WHERE id > %s AND kind = 'contest.collection'", last)[0][0]
    check(builds == 1, f"{builds} builds for one request")
    response = admin.get(f"/contest/{year}/collection.pdf", ok=None)
    check(response.body.startswith(b"%PDF-"), "the collection is not served after the rebuilt build")
    report.ok(f"kill -9 of the job worker during the build (job {job_id}): the next worker finished it once, "
              f"{time.monotonic() - killed_at:.1f} s after the kill")  # fmt: skip


def nothing_lost(stack: Stack, report: Report, browser: Browser, made: dict) -> None:
    projects = query(stack, "SELECT id FROM project WHERE status = 'published' ORDER BY id")
    entries = query(stack, "SELECT id FROM entry WHERE status = 'published' ORDER BY id")
    check([r[0] for r in projects] == sorted(p for p, _ in made["projects"]),
          f"published projects in the database {projects} ≠ made {made['projects']}")  # fmt: skip
    check([r[0] for r in entries] == sorted(e for e, _ in made["entries"]),
          f"published entries in the database {entries} ≠ made {made['entries']}")  # fmt: skip
    users = query(stack, 'SELECT count(*) FROM "user"')[0][0]
    check(users == 5, f"{users} accounts, not 5")
    for _, title in made["projects"] + made["entries"]:
        check(found(browser, f'"{title}"', title), f"«{title}» is published but not found by its title")
    check_search(stack, "at the end")
    metrics = browser.get("/metrics").text
    served = sum(
        float(n) for n in re.findall(r'^catalogue_requests_total\{[^}]*status="2xx"[^}]*\} (\S+)$', metrics, re.M)
    )
    check(served > 100, f"/metrics counts {served:.0f} answered requests of both workers, expected more than 100")
    for name in ("web", "indexer", "jobs", "nginx"):
        stack.alive(name)
    report.ok(f"nothing lost: {len(projects)} projects and {len(entries)} entry published, all found; 5 accounts")


def smoke_and_faults(stack: Stack, report: Report) -> None:
    made = smoke(stack, report)
    teacher, moderator, admin = (Browser(stack.site_url, stack.certificate) for _ in range(3))
    teacher.log_in("teacher@stack.example")
    moderator.log_in("moderator@stack.example")
    admin.log_in("admin@stack.example")
    kill_a_web_worker(stack, report)
    kill_the_indexer(stack, report, teacher, moderator, made)
    kill_a_rebuild(stack, report, teacher, moderator, made)
    kill_the_job_worker(stack, report, admin, made["year"])
    nothing_lost(stack, report, made["browser"], made)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("STACK_CHECK_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    arguments = parser.parse_args()
    started = time.monotonic()
    if not (VENV_BIN / "flask").exists():
        print(f"stack-check: no flask beside {sys.executable}; run it with .venv/bin/python", file=sys.stderr)
        return 2
    # A CI timeout's SIGTERM still stops the stack's processes and removes the folder (the finally clauses).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(arguments)
    except (CheckFailed, subprocess.CalledProcessError) as e:
        print(f"\nstack-check FAILED after {time.monotonic() - started:.0f} s: {e}", file=sys.stderr)
        return 1
    print(f"\nstack-check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

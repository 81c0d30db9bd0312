"""Login latency on SQLite while ``flask search rebuild`` runs in another process, against logins on a quiet site.

``python -m benchmarks login-during-rebuild`` builds a throwaway site (SQLite, demo content plus
``flask demo-scale``), then logs in over and over through the real login form in this process: first while nothing
else runs, then while a full rebuild of the index runs as its own process, as an administrator would start it.
Each login is a GET of the form and a POST of it; the POST is timed. Reported: the count, p50, p95 and the slowest,
and how many logins failed (a 500 «database is locked» would be one). With ``--instance DIR`` it measures a site
made before in that instance folder instead (SQLite), e.g. the 45,000-entry season of the large-scale figures.
"""

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.search_judged import ADMIN


def _site(directory: Path, projects: int, entries: int, practices: int):
    from catalogue import create_app

    instance = directory / "instance"
    url = f"sqlite:///{instance / 'site.sqlite'}"
    config = {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url,
              "SEARCH_INDEX_DIR": str(directory / "search"), "PAGE_CACHE": False, "WARM_UP": False,
              "LOGIN_FREE_FAILURES": 1000}  # fmt: skip
    app = create_app(config)
    runner = app.test_cli_runner()
    scale = ["demo-scale", "--projects", str(projects), "--entries", str(entries), "--practices", str(practices)]
    for args in (["db", "upgrade"], ["seed-demo"], scale):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}")
    return app, url


def _login_once(app) -> tuple[float, int]:
    from catalogue.demo import DEMO_PASSWORD
    from tests.helpers import csrf_token

    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    start = time.perf_counter()
    response = client.post("/auth/login", data={"email": ADMIN, "password": DEMO_PASSWORD, "csrf_token": token})
    return time.perf_counter() - start, response.status_code


def _summary(name: str, times: list[float], failures: int) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"{name:<22} {len(ms):>5} logins  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  "
            f"max {ms[-1]:7.1f} ms  failed {failures}")  # fmt: skip


def _existing_site(instance: Path):
    """A site made before (e.g. ``CATALOGUE_INSTANCE_PATH=DIR flask demo-scale …``): its SQLite database and index."""
    from catalogue import create_app

    config = {"INSTANCE_PATH": str(instance), "PAGE_CACHE": False, "WARM_UP": False, "LOGIN_FREE_FAILURES": 1000}
    app = create_app(config)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        raise RuntimeError("login-during-rebuild measures SQLite: unset DATABASE_URL")
    return app


def run(projects: int, entries: int, practices: int, echo: Callable[[str], None] = print,
        instance: Path | None = None) -> None:  # fmt: skip
    with TemporaryDirectory(prefix="login-during-rebuild-") as name:
        directory = Path(name)
        start = time.perf_counter()
        if instance is None:
            app, url = _site(directory, projects, entries, practices)
            env = {**os.environ, "DATABASE_URL": url, "SEARCH_INDEX_DIR": str(directory / "search")}
            echo(f"site built in {time.perf_counter() - start:.0f} s")
        else:
            app = _existing_site(instance)
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEARCH_INDEX_DIR")}
            env["CATALOGUE_INSTANCE_PATH"] = str(instance)
        quiet, quiet_failed = [], 0
        for _ in range(40):
            seconds, status = _login_once(app)
            quiet.append(seconds)
            quiet_failed += status != 303
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "catalogue", "search", "rebuild"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        busy, busy_failed = [], 0
        while rebuild.poll() is None:
            seconds, status = _login_once(app)
            busy.append(seconds)
            busy_failed += status != 303
        echo(rebuild.stdout.read().strip())
        echo(_summary("quiet", quiet, quiet_failed))
        if busy:
            echo(_summary("during the rebuild", busy, busy_failed))

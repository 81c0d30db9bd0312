"""Measurements of the page cache and of the first request after a start (not tests).

``python -m benchmarks.page_cache store``: the cost of a hit in the two stores considered (files, SQLite).
``python -m benchmarks.page_cache hit``: the cache's hit path in process, beside a bare Flask hello world.
``python -m benchmarks.page_cache serve``: requests/s of pages under gunicorn (2 sync workers) as a share of a bare
Flask hello world under the same gunicorn, measured interleaved (one second each, in turn) so that the ratio holds
on a busy machine. ``python -m benchmarks.page_cache startup``: the first and the tenth request of the home page
after a start, with the cache off. ``serve`` and ``startup`` build a site with the demo content in a temporary
folder; gunicorn is the command ``--gunicorn`` (default ``gunicorn``).
"""

import contextlib
import os
import shlex
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import click

ROOT = Path(__file__).resolve().parent.parent
HELLO = 'from flask import Flask\napp = Flask(__name__)\n\n\n@app.get("/")\ndef hello():\n    return "Hello, World!"\n'
PAGES = (
    "/",
    "/projects/",
    "/projects/?age=8-9",
    "{project}",
    "/practices/",
    "/contest/",
    "/feeds/projects.atom",
    "/search?q=" + quote("проект"),
)


@click.group()
def main() -> None:
    pass


@main.command()
@click.option("--entries", default=2000, show_default=True)
@click.option("--size", default=30_000, show_default=True, help="Bytes of one page.")
def store(entries: int, size: int) -> None:
    """A hit read from a file per entry against one from an SQLite table (WAL)."""
    body = os.urandom(size)
    with tempfile.TemporaryDirectory() as directory:
        keys = [f"{n:064x}" for n in range(entries)]
        for key in keys:
            (Path(directory) / key).write_bytes(body)
        con = sqlite3.connect(Path(directory) / "cache.sqlite", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE entry (key TEXT PRIMARY KEY, value BLOB)")
        con.executemany("INSERT INTO entry VALUES (?, ?)", [(key, body) for key in keys])

        def from_files():
            for key in keys:
                with open(Path(directory) / key, "rb") as f:
                    f.read()

        def from_sqlite():
            for key in keys:
                con.execute("SELECT value FROM entry WHERE key = ?", (key,)).fetchone()

        for name, read in (("files", from_files), ("SQLite", from_sqlite)):
            best = min(_timed(read) for _ in range(5))
            click.echo(f"{name}: {best / entries * 1e6:.1f} µs per hit of {size:,} bytes")
        con.close()


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


SEED = """
import sys
from catalogue import create_app
app = create_app({"INSTANCE_PATH": sys.argv[1]})
for command in (["init-db"], ["seed-demo"]):
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
"""


@contextlib.contextmanager
def demo_site(cache: bool):
    """A site with the demo content in a temporary instance folder.

    Yields (environment, the gunicorn application of the site, a project's address, the folder).
    """
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "SECRET_KEY": "bench",
            "SITE_URL": "http://127.0.0.1:5000",
            "PAGE_CACHE": "1" if cache else "0",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "-c", SEED, directory], env=env, check=True, capture_output=True)  # noqa: S603
        con = sqlite3.connect(f"{directory}/catalogue.db")
        project = con.execute("SELECT id FROM project WHERE status = 'published' ORDER BY id LIMIT 1").fetchone()
        con.close()
        yield env, f"catalogue:create_app({{'INSTANCE_PATH': {directory!r}}})", f"/projects/{project[0]}", directory


@contextlib.contextmanager
def gunicorn(command: str, app: str, port: int, env: dict, workers: int = 2, preload: bool = False, cwd=None):
    args = [*shlex.split(command), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if preload:
        args.append("--preload")
    process = subprocess.Popen([*args, app], env=env, cwd=cwd or ROOT)  # noqa: S603  (our own command line)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def fetch(port: int, path: str) -> tuple[int, bytes]:
    """One HTTP/1.0 GET; (status, the whole response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:5000\r\n\r\n".encode())
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    response = b"".join(chunks)
    return int(response[9:12]), response


def final_path(port: int, path: str) -> str:
    """The address a page ends at after its redirects (a project's address gains its slug)."""
    for _ in range(5):
        status, response = fetch(port, path)
        if status not in (301, 302, 303, 307, 308):
            return path
        location = next(
            line.split(b":", 1)[1].strip().decode()
            for line in response.split(b"\r\n\r\n")[0].split(b"\r\n")
            if line.lower().startswith(b"location:")
        )
        parts = urlsplit(location)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path


def throughput(port: int, path: str, seconds: float, clients: int) -> int:
    """Requests completed by ``clients`` threads in ``seconds``."""
    done = [0] * clients
    stop = time.monotonic() + seconds

    def run(n: int) -> None:
        while time.monotonic() < stop:
            status, _ = fetch(port, path)
            assert status == 200, (path, status)
            done[n] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


@main.command()
@click.option("--requests", "count", default=5000, show_default=True)
def hit(count: int) -> None:
    """The hit path in process (WSGI calls, no HTTP): a page from the cache, the generation read, hello world."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from catalogue import create_app
    from catalogue.extensions import db
    from catalogue.page_cache import GenerationReader

    def wsgi_call(app, environ) -> None:
        for _ in app(dict(environ), lambda status, headers, exc_info=None: None):
            pass

    with tempfile.TemporaryDirectory() as directory:
        site = create_app({"INSTANCE_PATH": directory, "PAGE_CACHE": True, "SITE_URL": "http://localhost"})
        with site.app_context():
            db.create_all()
        hello = Flask("hello")
        hello.get("/")(lambda: "Hello, World!")
        for name, app, path in (("cached /projects/", site, "/projects/"), ("hello world", hello, "/")):
            environ = EnvironBuilder(path=path, base_url="http://localhost").get_environ()
            wsgi_call(app, environ)  # stores the page
            best = min(_timed(lambda a=app, e=environ: [wsgi_call(a, e) for _ in range(count)]) for _ in range(3))
            click.echo(f"{name}: {best / count * 1e6:.0f} µs per request")
        with site.app_context():
            read_generation = GenerationReader(db.engine)
        best = min(_timed(lambda: [read_generation() for _ in range(count)]) for _ in range(3))
        click.echo(f"the generation read alone (SQLite): {best / count * 1e6:.0f} µs")


@main.command()
@click.option("--gunicorn", "command", default="gunicorn", show_default=True)
@click.option("--rounds", default=5, show_default=True, help="Seconds of each, in turn.")
@click.option("--clients", default=4, show_default=True)
@click.option("--cache/--no-cache", default=True, show_default=True)
def serve(command: str, rounds: int, clients: int, cache: bool) -> None:
    """Requests/s of each page as a share of a bare Flask hello world, both under gunicorn -w 2."""
    with demo_site(cache) as (env, site_app, project, directory):
        Path(directory, "hello.py").write_text(HELLO)
        hello_env = {**env, "PYTHONPATH": os.pathsep.join([directory, env["PYTHONPATH"]])}
        with (
            gunicorn(command, site_app, 8765, env),
            gunicorn(command, "hello:app", 8766, hello_env, cwd=directory),
        ):
            click.echo("| page | requests/s | hello world requests/s | share |")
            click.echo("|---|---|---|---|")
            for page in PAGES:
                path = final_path(8765, page.format(project=project))  # warm (and, with the cache, stored)
                site = hello = 0
                for _ in range(rounds):
                    hello += throughput(8766, "/", 1.0, clients)
                    site += throughput(8765, path, 1.0, clients)
                click.echo(f"| `{path}` | {site / rounds:.0f} | {hello / rounds:.0f} | {site / hello:.2f} |")


@main.command()
@click.option("--gunicorn", "command", default="gunicorn", show_default=True)
@click.option("--times", default=3, show_default=True, help="Starts to measure.")
@click.option("--settle", default=5.0, show_default=True, help="Seconds to wait after the port opens.")
@click.option("--warm-up/--no-warm-up", default=True, show_default=True)
def startup(command: str, times: int, settle: float, warm_up: bool) -> None:
    """The first and the tenth request of the home page after a start (one worker, cache off)."""
    with demo_site(cache=False) as (env, site_app, _project, _directory):
        env["WARM_UP"] = "1" if warm_up else "0"
        for n in range(times):
            with gunicorn(command, site_app, 8767 + n, env, workers=1):
                time.sleep(settle)  # the worker has loaded the app (and warmed up) by now
                durations = []
                for _ in range(10):
                    start = time.perf_counter()
                    status, _ = fetch(8767 + n, "/")
                    durations.append(time.perf_counter() - start)
                    assert status == 200
            first, tenth = durations[0] * 1000, durations[9] * 1000
            click.echo(f"start {n + 1}: first {first:.1f} ms, tenth {tenth:.1f} ms, ratio {first / tenth:.1f}")


if __name__ == "__main__":
    main()

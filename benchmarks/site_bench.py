"""``make bench`` (``python -m benchmarks site-bench``): the site's pages against a bare Flask app, under gunicorn.

Both apps run under the same gunicorn (2 sync workers each) on 127.0.0.1. Each page is measured *interleaved*
with hello world: short bursts alternate (hello, page, hello, page …) from the same client in the same run, so
a neighbour's load on a shared machine slows both sides alike and the ratio holds. The load client is plain
Python (``http.client``, one connection per thread, as many threads as workers): nothing to install, it logs in
through the real form, and at a few hundred requests a second it is not the bottleneck (hello world's own figure
shows the ceiling of client and server together).

Printed per page, for an anonymous visitor and for a logged-in user: requests per second, the ratio to hello world,
the median time of one request alone (the server's time plus a constant ~1 ms of client and connection), the
workers' CPU time per request (from ``/proc``, read around every burst; on a shared machine it holds where the
rates swing) and hello world's, and at the end the workers' resident memory (now and peak). Only 127.0.0.1; the
number of requests and the time per page are bounded.
"""

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEMO_USER = "teacher@demo.example"
DEMO_PASSWORD = "demo-demo-2026"  # noqa: S105  (the demo accounts' password, printed in the README)


@dataclass
class Client:
    """One keep-alive connection per thread (gunicorn's sync workers close it; it reopens), with cookies."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        return conn

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            conn.close()
        return response.status, data.decode("utf-8", "replace")

    def get(self, path: str) -> str:
        status, text = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return text


def log_in(client: Client, email: str, password: str) -> None:
    page = client.get("/auth/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page
    )
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    status, _ = client.request("POST", "/auth/login", body)
    if status != 303:
        raise RuntimeError(f"login as {email} failed: {status}")


def burst(client: Client, path: str, requests: int, threads: int) -> float:
    """Send ``requests`` GETs of ``path`` from ``threads`` threads; the seconds it took."""
    per_thread = [requests // threads + (i < requests % threads) for i in range(threads)]
    errors: list[str] = []

    def work(n: int) -> None:
        for _ in range(n):
            status, _ = client.request("GET", path)
            if status != 200:
                errors.append(f"GET {path}: {status}")
                return

    workers = [threading.Thread(target=work, args=(n,)) for n in per_thread]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    return elapsed


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used, from ``/proc`` (clock ticks)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    label: str
    path: str
    who: str
    rps: float
    hello_rps: float
    median_ms: float
    cpu_ms: float  # the site's workers' CPU per request
    hello_cpu_ms: float

    @property
    def ratio(self) -> float:
        return self.rps / self.hello_rps

    @property
    def cpu_ratio(self) -> float:
        """What the ratio would be on an idle machine: hello world's CPU per request over the page's."""
        return self.hello_cpu_ms / self.cpu_ms if self.cpu_ms else float("nan")


def measure(
    site: Client, hello: Client, label: str, path: str, who: str, *, rounds: int, burst_size: int, threads: int,
    max_seconds: float, site_pids: list[int], hello_pids: list[int],
) -> Row:
    """Alternate bursts of hello world and the page; then time the page alone, one request at a time."""
    # Warm both, every worker (concurrent requests reach all of them): templates compiled, connections pooled, the
    # page's pieces made. What a page costs when made is `server-times`' figure; here it is the pages as served.
    burst(site, path, 5 * len(site_pids), threads)
    burst(hello, "/", 5 * len(hello_pids), threads)
    page_time = hello_time = page_cpu = hello_cpu = 0.0
    done = 0
    deadline = time.monotonic() + max_seconds
    for _ in range(rounds):
        before = cpu_seconds(hello_pids)
        hello_time += burst(hello, "/", burst_size, threads)
        hello_cpu += cpu_seconds(hello_pids) - before
        before = cpu_seconds(site_pids)
        page_time += burst(site, path, burst_size, threads)
        page_cpu += cpu_seconds(site_pids) - before
        done += 1
        if time.monotonic() > deadline:
            break
    alone = []
    for _ in range(min(20, burst_size)):
        start = time.perf_counter()
        site.request("GET", path)
        alone.append(time.perf_counter() - start)
    n = done * burst_size
    return Row(label, path, who, n / page_time, n / hello_time, statistics.median(alone) * 1000,
               page_cpu / n * 1000, hello_cpu / n * 1000)  # fmt: skip


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {HOST}:{port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def gunicorn(app: str, port: int, workers: int, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603  (our own gunicorn with fixed arguments)
        [str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync", "-b", f"{HOST}:{port}", "--timeout", "120",
         "--log-level", "warning", app],
        cwd=cwd, env=env,
    )  # fmt: skip


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def memory_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def discover_pages(client: Client, query: str) -> list[tuple[str, str]]:
    """The pages people open most, with an item of each list found on the list itself."""
    pages = [("home", "/"), ("/projects/", "/projects/")]
    catalogue = client.get("/projects/")
    age = re.search(r'href="(/projects/\?age=[^"&]+)"', catalogue)
    if age:
        pages.append(("/projects/ filtered", age.group(1)))
    project = re.search(r'href="(/projects/\d+-[^"/]*)"', catalogue)
    if project:
        pages.append(("a project", project.group(1)))
    pages.append(("/practices/", "/practices/"))
    practice = re.search(r'href="(/practices/\d+[^"/]*)"', client.get("/practices/"))
    if practice:
        pages.append(("a practice", practice.group(1)))
    pages.append(("/contest/", "/contest/"))
    pages.append(("/feeds/projects.atom", "/feeds/projects.atom"))
    pages.append((f"/search?q={query}", "/search?" + urllib.parse.urlencode({"q": query})))
    return pages


def run(
    *, database_url: str | None, index_dir: str | None, workers: int, rounds: int, burst_size: int,
    max_seconds: float, query: str, echo: Callable[[str], None], source: Path = ROOT,
    visitors: tuple[str, ...] = ("anonymous", DEMO_USER),
) -> list[Row]:
    env = dict(os.environ)
    env.update(SECRET_KEY="bench-" + "x" * 40, SEARCH_SYNC_IN_PROCESS="0", PYTHONPATH=f"{source}:{ROOT}")
    if database_url:
        env["DATABASE_URL"] = database_url
    if index_dir:
        env["SEARCH_INDEX_DIR"] = index_dir
    site_port, hello_port = free_port(), free_port()
    env["SITE_URL"] = f"http://{HOST}:{site_port}"
    servers = [
        gunicorn("catalogue:create_app()", site_port, workers, env, cwd=source),
        gunicorn("benchmarks.hello:app", hello_port, workers, env),
    ]
    rows: list[Row] = []
    try:
        wait_for(site_port)
        wait_for(hello_port)
        anonymous, hello = Client(site_port), Client(hello_port)
        pages = discover_pages(anonymous, query)
        clients = []
        for visitor in visitors:
            if visitor == "anonymous":
                clients.append(("anonymous", anonymous))
            else:
                member = Client(site_port)
                log_in(member, visitor, DEMO_PASSWORD)
                clients.append((f"logged in ({visitor.split('@')[0]})", member))
        echo(f"gunicorn, {workers} sync workers each; bursts of {burst_size} requests from {workers} threads, "
             f"{rounds} rounds per page, alternating with hello world")  # fmt: skip
        echo("")
        echo("| page | visitor | requests/s | hello world, requests/s | ratio | one request alone, ms "
             "| CPU ms per request (hello world) | ratio by CPU |")  # fmt: skip
        echo("|---|---|---|---|---|---|---|---|")
        site_pids, hello_pids = worker_pids(servers[0].pid), worker_pids(servers[1].pid)
        for who, client in clients:
            for label, path in pages:
                row = measure(client, hello, label, path, who, rounds=rounds, burst_size=burst_size,
                              threads=workers, max_seconds=max_seconds, site_pids=site_pids,
                              hello_pids=hello_pids)  # fmt: skip
                rows.append(row)
                echo(f"| {label} | {who} | {row.rps:.0f} | {row.hello_rps:.0f} | {row.ratio:.3f} | "
                     f"{row.median_ms:.1f} | {row.cpu_ms:.1f} ({row.hello_cpu_ms:.2f}) | "
                     f"{row.cpu_ratio:.3f} |")  # fmt: skip
        echo("")
        for name, server in (("site", servers[0]), ("hello world", servers[1])):
            mems = [memory_mb(pid) for pid in worker_pids(server.pid)]
            echo(f"{name} workers' memory (RSS now / peak, MB): "
                 + ", ".join(f"{now:.0f} / {peak:.0f}" for now, peak in mems))  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    return rows

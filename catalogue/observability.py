"""What an operator sees of a running site: a request id on every response, one log line per request, `/healthz`
and `/metrics`.

- **Request id.** Every response carries ``X-Request-ID``: the one the proxy sent (letters, digits, ``._-``, 8–64
  characters), or a new one. Error pages show it («Код запроса»), so a person's report leads to the log line.
- **Logs.** With ``LOG_FORMAT=json`` every log record is one JSON object per line on stderr, with the request id when
  there is one, and every request (page-cache hits too: this layer is outside the cache) gets one line: method, path,
  status, duration, bytes, whether the page cache answered. Paths are logged without the query string, and a path
  segment that looks like a token (login links, unsubscribe links) is written as ``…``.
- **`/healthz`** answers 200 or 503. It checks the database (one ``SELECT 1``), the search index (present, and the
  age of its last commit), the search outbox (rows waiting, and the oldest one's age), the free disk under the
  instance folder, and whatever other parts register a check (:func:`health_check`). The public gets
  ``{"status": "ok"}`` or ``{"status": "fail"}``; addresses in ``METRICS_ALLOW`` get every check.
- **`/metrics`** is the Prometheus text format, only with ``METRICS=1`` and only for ``METRICS_ALLOW`` (CIDR list,
  default the local host); others get 404. Request counts and durations are counted per process, or across gunicorn
  workers when ``PROMETHEUS_MULTIPROC_DIR`` names an empty folder (prometheus_client's multiprocess mode); the health
  figures are read at each scrape.
"""

import datetime as dt
import ipaddress
import json
import logging
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, has_request_context, jsonify, request
from sqlalchemy import func, select, text

from catalogue.clock import utcnow
from catalogue.extensions import db

ENVIRON_KEY = "catalogue.request_id"
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# A path segment that is a secret of its own: login and unsubscribe links, signed tokens.
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_.=-]{24,}")

access_log = logging.getLogger("catalogue.access")
bp = Blueprint("observability", __name__)


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return request.environ.get(ENVIRON_KEY) if has_request_context() else None


# -- one line per request ---------------------------------------------------------------------------


def _public_path(path: str) -> str:
    return "/".join("…" if _TOKEN_SEGMENT.fullmatch(part) else part for part in path.split("/"))


class RequestLog:
    """WSGI middleware, the outermost layer: the request id, the access line and the request metrics."""

    def __init__(self, app: Flask, wsgi_app, log_requests: bool, metrics: "Metrics | None"):
        self.app = app
        self.wsgi_app = wsgi_app
        self.log_requests = log_requests
        self.metrics = metrics

    def __call__(self, environ, start_response):
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
        environ[ENVIRON_KEY] = rid
        started = time.perf_counter()
        seen: dict = {}

        def start(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            seen["cached"] = any(name == "X-Page-Cache" and value == "hit" for name, value in headers)
            seen["length"] = next((value for name, value in headers if name.lower() == "content-length"), None)
            return start_response(status, [*headers, ("X-Request-ID", rid)], exc_info)

        if not self.log_requests and self.metrics is None:
            return self.wsgi_app(environ, start)  # only the id to add: the answer passes untouched

        def finish(size: int | None) -> None:
            self._finish(environ, rid, seen, time.perf_counter() - started, size)

        try:
            result = self.wsgi_app(environ, start)
        except BaseException:
            seen.setdefault("status", 500)
            finish(0)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
            # A file the server sends itself (sendfile): handed on untouched, logged now.
            finish(int(seen["length"]) if str(seen.get("length", "")).isdigit() else None)
            return result
        return _Counted(result, finish)

    def _finish(self, environ, rid: str, seen: dict, seconds: float, size: int | None) -> None:
        status = seen.get("status", 500)
        method = environ.get("REQUEST_METHOD", "")
        if self.metrics is not None:
            self.metrics.observe(method, status, seconds)
        if self.log_requests:
            path = _public_path(environ.get("PATH_INFO", ""))
            http = {"method": method, "path": path, "status": status, "duration_ms": round(seconds * 1000, 2),
                    "bytes": size, "page_cache": seen.get("cached", False)}  # fmt: skip
            access_log.info("%s %s %s", method, path, status, extra={"request_id": rid, "http": http})


class _Counted:
    """The application's answer, passed on chunk by chunk; ``done(bytes sent)`` runs once, when it is closed."""

    def __init__(self, result, done: Callable[[int], None]):
        self.result = result
        self.done = done
        self.size = 0
        self.finished = False

    def __iter__(self):
        for chunk in self.result:
            self.size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            if not self.finished:
                self.finished = True
                self.done(self.size)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request id, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            data["request_id"] = rid
        http = getattr(record, "http", None)
        if http:
            data["http"] = http
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


_JSON_HANDLER = "catalogue-json"


def _configure_json_logs() -> None:
    """Every record of the process as one JSON line on stderr (once per process, however many apps it makes)."""
    root = logging.getLogger()
    if any(handler.get_name() == _JSON_HANDLER for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_JSON_HANDLER)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Flask's own handler would print every error a second time, as text.
    logging.getLogger("werkzeug").propagate = True


# -- health -----------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict


_checks: list[Callable[[], Check]] = []


def health_check(function: Callable[[], Check]) -> Callable[[], Check]:
    """Register a check of `/healthz` (a part of the site with state of its own: the jobs queue...)."""
    _checks.append(function)
    return function


@health_check
def _database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as e:  # any failure of the database is the answer
        db.session.rollback()
        return Check("database", False, {"error": type(e).__name__})
    return Check("database", True, {})


@health_check
def _search() -> Check:
    from catalogue.search import indexer
    from catalogue.search.outbox import SearchOutbox
    from catalogue.search.stored import SearchDocumentRow

    backend = indexer.backend()
    if hasattr(backend, "committed_at"):  # a database engine (SEARCH_BACKEND=postgresql) says itself
        committed = backend.committed_at()
    else:
        committed = _newest_mtime(getattr(backend, "root", None), getattr(backend, "current_name", lambda: None)())
    waiting, oldest = db.session.execute(select(func.count(), func.min(SearchOutbox.created_at))).one()
    # A site that never published anything has no index yet, and needs none.
    needed = committed is not None or db.session.scalar(select(SearchDocumentRow.key).limit(1)) is not None
    db.session.rollback()
    lag = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    limit = current_app.config["HEALTH_MAX_OUTBOX_LAG_SECONDS"]
    detail = {
        "index_present": committed is not None,
        "index_age_seconds": round(time.time() - committed, 1) if committed is not None else None,
        "outbox_waiting": waiting,
        "outbox_lag_seconds": round(lag, 1),
    }
    return Check("search", (committed is not None or not needed) and lag <= limit, detail)


def _newest_mtime(root: Path | None, generation: str | None) -> float | None:
    if root is None or generation is None:
        return None
    try:
        return max(entry.stat().st_mtime for entry in (root / generation).iterdir() if entry.suffix == ".toc")
    except (OSError, ValueError):
        return None


@health_check
def _disk() -> Check:
    usage = shutil.disk_usage(current_app.instance_path)
    free_mb = usage.free // (1024 * 1024)
    return Check("disk", free_mb >= current_app.config["HEALTH_MIN_FREE_MB"], {"free_mb": free_mb})


def run_checks() -> list[Check]:
    results = []
    for check in _checks:
        try:
            results.append(check())
        except Exception as e:  # a check that fails is a failed check, not a 500
            db.session.rollback()
            results.append(Check(check.__name__.strip("_"), False, {"error": type(e).__name__}))
    return results


def _allowed() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["METRICS_ALLOW_NETWORKS"])


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """200 when every check passes, else 503; the checks themselves only for the allowed addresses."""
    checks = run_checks()
    ok = all(c.ok for c in checks)
    body: dict = {"status": "ok" if ok else "fail"}
    if _allowed():
        body["checks"] = {c.name: {"ok": c.ok, **c.detail} for c in checks}
    return _no_store(jsonify(body)), 200 if ok else 503


# -- metrics ----------------------------------------------------------------------------------------


class Metrics:
    """Request counts and durations (prometheus_client), and the health figures read at each scrape."""

    def __init__(self):
        import os

        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # Counters of their own, not the library's global registry: tests and benchmarks make many apps.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "catalogue_requests", "HTTP requests answered, by method and status class.",
            ["method", "status"], registry=self.registry,
        )  # fmt: skip
        self.seconds = Histogram(
            "catalogue_request_duration_seconds", "Time to answer a request.", registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip

    def observe(self, method: str, status: int, seconds: float) -> None:
        method = method if method in {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"} else "other"
        self.requests.labels(method, f"{status // 100}xx").inc()
        self.seconds.observe(seconds)

    def exposition(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            requests = generate_latest(registry)
        else:
            requests = generate_latest(self.registry)
        return requests + "".join(_health_lines()).encode()


def _health_lines() -> Iterator[str]:
    yield "# HELP catalogue_health_ok Whether a health check passes (1) or fails (0).\n"
    yield "# TYPE catalogue_health_ok gauge\n"
    figures = []
    for check in run_checks():
        yield f'catalogue_health_ok{{check="{check.name}"}} {int(check.ok)}\n'
        figures += [(f"{check.name}_{key}", value) for key, value in check.detail.items()]
    for name, value in figures:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        metric = f"catalogue_{name}"
        yield f"# TYPE {metric} gauge\n{metric} {value}\n"


@bp.get("/metrics")
def metrics():
    state: Metrics | None = current_app.extensions.get("catalogue.metrics")
    if state is None or not _allowed():
        return _no_store(Response("Not Found\n", status=404, mimetype="text/plain"))
    from prometheus_client import CONTENT_TYPE_LATEST

    return _no_store(Response(state.exposition(), mimetype=CONTENT_TYPE_LATEST))


# -- set-up -----------------------------------------------------------------------------------------


def networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]


def init_app(app: Flask) -> None:
    """The blueprint, JSON logs when asked, and the outermost WSGI layer (call it after every other layer)."""
    app.config["METRICS_ALLOW_NETWORKS"] = networks(app.config["METRICS_ALLOW"])
    app.register_blueprint(bp)
    json_logs = app.config["LOG_FORMAT"] == "json"
    if json_logs:
        _configure_json_logs()
    state = None
    if app.config["METRICS"]:
        state = Metrics()
        app.extensions["catalogue.metrics"] = state
    app.wsgi_app = RequestLog(app, app.wsgi_app, log_requests=json_logs, metrics=state)

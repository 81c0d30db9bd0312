"""An operator's view of the running site: request ids, one JSON line per request, /healthz and /metrics
(issue #14 §7)."""

import datetime as dt
import json
import logging

import pytest

from catalogue import observability
from catalogue.extensions import db
from catalogue.search.outbox import SearchOutbox
from tests.conftest import app_config, make_test_app

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}  # a visitor, not the operator's host


@pytest.fixture
def make_app(app, tmp_path):
    """Another app on the same database, with settings of its own."""

    def make(**settings):
        config = app_config(tmp_path / "other-instance", app.config["SQLALCHEMY_DATABASE_URI"])
        config.update(settings)
        return make_test_app(config)

    made = []
    yield lambda **settings: made.append(make(**settings)) or made[-1]
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_every_answer_carries_a_request_id_and_error_pages_show_it(client):
    first, second = client.get("/"), client.get("/")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    missing = client.get("/projects/999999")
    assert missing.status_code == 404
    assert f"Код запроса: <code>{missing.headers['X-Request-ID']}</code>" in missing.get_data(as_text=True)


def test_a_request_id_from_the_proxy_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/", headers={"X-Request-ID": "nginx-4f2a9c01"}).headers["X-Request-ID"] == "nginx-4f2a9c01"
    for hostile in ("<script>alert(1)</script>", "a" * 500, "short"):
        given = client.get("/", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert given != hostile and len(given) == 32


def test_a_server_error_page_names_its_request_id(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom", headers={"X-Request-ID": "support-call-0001"})
    assert response.status_code == 500
    assert "Код запроса: <code>support-call-0001</code>" in response.get_data(as_text=True)


def test_json_logs_give_one_line_per_request_with_its_id_and_no_secrets(make_app, caplog):
    app = make_app(LOG_FORMAT="json")
    try:
        with caplog.at_level(logging.INFO, logger="catalogue.access"):
            response = app.test_client().get("/auth/link/IjEyMyI.aBcDeFgHiJkLmNoPqRsTuVwXyZ.012345?next=/x")
            response.close()  # the line is written when the server has sent the whole answer
        lines = [json.loads(observability.JsonFormatter().format(r)) for r in caplog.records]
        (line,) = [entry for entry in lines if entry["logger"] == "catalogue.access"]
        assert line["request_id"] == response.headers["X-Request-ID"]
        assert line["http"]["status"] == response.status_code
        assert line["http"]["path"] == "/auth/link/…"  # the login link's token never reaches the log
        assert line["http"]["method"] == "GET" and line["http"]["duration_ms"] >= 0
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "catalogue-json"]:
            root.removeHandler(handler)


def test_health_is_ok_for_a_new_site_and_details_are_for_the_operator_only(client):
    public = client.get("/healthz", environ_base=OUTSIDE)
    assert public.status_code == 200 and public.get_json() == {"status": "ok"}
    assert public.headers["Cache-Control"] == "no-store"
    local = client.get("/healthz").get_json()
    assert local["status"] == "ok"
    assert set(local["checks"]) >= {"database", "search", "disk"}
    assert local["checks"]["search"]["outbox_waiting"] == 0


def test_health_fails_when_the_search_outbox_has_waited_too_long(app, client):
    with app.app_context():
        an_hour_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
        db.session.add(SearchOutbox(content_type="project", content_id=1, created_at=an_hour_ago))
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail" and body["checks"]["search"]["ok"] is False
    assert body["checks"]["search"]["outbox_lag_seconds"] >= 3500
    assert client.get("/healthz", environ_base=OUTSIDE).get_json() == {"status": "fail"}


def test_health_fails_when_the_disk_is_nearly_full(make_app):
    app = make_app(HEALTH_MIN_FREE_MB=10**12)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["disk"]["ok"] is False


def test_metrics_are_off_unless_configured_and_then_only_for_allowed_addresses(client, make_app):
    assert client.get("/metrics").status_code == 404
    app = make_app(METRICS=True)
    operator = app.test_client()
    for path in ("/", "/projects/999999"):
        operator.get(path).close()  # counted when the server has sent the whole answer, as servers do
    text = operator.get("/metrics").get_data(as_text=True)
    assert 'catalogue_requests_total{method="GET",status="2xx"} 1.0' in text
    assert 'catalogue_requests_total{method="GET",status="4xx"} 1.0' in text
    assert 'catalogue_health_ok{check="database"} 1' in text
    assert "catalogue_search_outbox_waiting 0" in text
    assert operator.get("/metrics", environ_base=OUTSIDE).status_code == 404

"""The first request after a start as fast as the tenth: the home page rendered once while the process starts.

A fresh process compiles every SQL statement it meets the first time (SQLAlchemy caches them per process) and loads
the compiled templates; the first visitor paid for both, several times the cost of a later request. ``create_app``
calls :func:`warm_up` last; the page is dispatched inside the application (the page cache in front would answer
instead). A database not made yet (``init-db``) or any failure only leaves the process cold. The engine's
connections are closed afterwards, so none crosses into a worker forked from this process (gunicorn
``--preload``). ``WARM_UP=0`` turns it off (the tests do).
"""

import logging

from flask import Flask
from sqlalchemy import inspect

from catalogue.extensions import db

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> None:
    if not app.config.get("WARM_UP"):
        return
    try:
        with app.app_context():
            if not inspect(db.engine).has_table("content_generation"):
                return
        # Dispatched inside the application, past the WSGI layers (the page cache would answer instead).
        with app.test_request_context("/", base_url=app.config["SITE_URL"]):
            response = app.full_dispatch_request()
        if response.status_code != 200:
            log.info("Warm-up: the home page answered %s", response.status_code)
    except Exception:
        log.warning("Warm-up failed; the first request will be slower", exc_info=True)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

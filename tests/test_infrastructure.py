"""The test plumbing itself: backends, SQLite settings, migrations, fixtures, the browser."""

import re
import subprocess
import sys
from pathlib import Path
from pprint import pformat

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text
from werkzeug.routing import AnyConverter, PathConverter

import catalogue
import catalogue.models  # every table in db.metadata
from catalogue.extensions import db
from catalogue.media import services as media_services
from catalogue.media.thumbnails import render_thumbnail, up_axis
from catalogue.media.validation import validate_upload
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.web import BoundedIntConverter
from tests.conftest import _compile_url_builder, app_config, make_test_app
from tests.helpers import DEFAULT_PASSWORD, fixture_bytes, only_on, postgres_schema

MIGRATIONS = Path(catalogue.__file__).parent / "migrations"


def test_database_backend_matches_the_parameter(app, backend):
    with app.app_context():
        # The engine really speaks to the backend this run is about.
        assert db.engine.dialect.name == backend
        assert db.session.execute(text("SELECT 1")).scalar() == 1


@only_on("sqlite")
def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app):
    with app.app_context():
        # No request here: the pragmas come from the engine's connect hook.
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_every_test_starts_with_the_taxonomies_seeded(app):
    with app.app_context():
        for model in (Municipality, Organization, AgeGroup, Sphere):
            assert db.session.scalar(select(func.count()).select_from(model)) > 0, model


def test_a_post_without_csrf_token_is_refused(client):
    # CSRF protection stays on in tests.
    response = client.post("/auth/login", data={"email": "x@example.ru", "password": "x"})
    assert response.status_code == 400


def test_a_user_made_by_the_factory_can_log_in_and_out(client, auth, make_user):
    user = make_user(roles=("student",))
    assert user.grade is not None and user.organization is not None

    # Logging in redirects away from the form and opens the account page.
    response = auth.login(user.email, DEFAULT_PASSWORD)
    assert response.status_code in (302, 303)
    assert client.get("/account/").status_code == 200

    # Logging out closes it again.
    response = auth.logout()
    assert response.status_code in (302, 303)
    assert client.get("/account/").status_code in (302, 303)


def test_apps_share_url_builders_that_build_what_fresh_ones_build(tmp_path):
    # tests/conftest.py generates werkzeug's URL builders once for all the apps the tests make: each app's rules
    # use the same ones, and every rule builds the same URL, query string included, as a builder made for it alone.
    first, second = (make_test_app(app_config(tmp_path / name, "sqlite://")) for name in ("one", "two"))
    pairs = list(zip(first.url_map.iter_rules(), second.url_map.iter_rules(), strict=True))
    assert len(pairs) > 100
    samples = {BoundedIntConverter: 7, AnyConverter: None, PathConverter: "папка/файл 1.txt"}
    for rule, twin in pairs:
        assert (rule.rule, rule.endpoint) == (twin.rule, twin.endpoint)
        assert rule._build.__func__ is twin._build.__func__
        assert rule._build_unknown.__func__ is twin._build_unknown.__func__
        values = {}
        for name, converter in rule._converters.items():
            sample = samples.get(type(converter), "слово & знак")
            values[name] = sorted(converter.items)[-1] if isinstance(converter, AnyConverter) else sample
        fresh = _compile_url_builder(rule, True).__get__(rule)
        assert twin.build(values) == rule.build(values) == fresh(**values), rule.rule
        with_query = {**values, "q": "поиск ?&", "page": 2}
        assert twin.build(with_query) == fresh(**with_query), rule.rule
        assert twin.build(values, append_unknown=False) == _compile_url_builder(rule, False).__get__(rule)(**values)


def test_uploads_share_each_models_thumbnail_which_is_the_one_drawn_anew():
    # tests/conftest.py draws an upload's thumbnail once per model for the session: a second upload of the model
    # gets the very same picture, which is the picture catalogue.media.thumbnails draws; another model gets its own.
    cube, teapot = (validate_upload("model", name, fixture_bytes(name)) for name in ("20mm-xyz-cube.stl", "teapot.stl"))
    picture = media_services._thumbnail(cube)
    assert picture == render_thumbnail(cube.triangles, up=up_axis(cube.format), colours=cube.colours)
    again = validate_upload("model", "20mm-xyz-cube.stl", fixture_bytes("20mm-xyz-cube.stl"))
    assert media_services._thumbnail(again) is picture
    assert media_services._thumbnail(teapot) == render_thumbnail(teapot.triangles, up=up_axis(teapot.format))
    assert media_services._thumbnail(teapot) != picture
    red = np.full((len(cube.triangles), 3), (200, 30, 30), dtype=np.uint8)
    assert media_services.render_thumbnail(cube.triangles, colours=red) == render_thumbnail(cube.triangles, colours=red)
    assert media_services.render_thumbnail(cube.triangles, colours=red) != picture


# -- migrations -------------------------------------------------------------------------------


@pytest.fixture
def empty_database(backend, database_url, tmp_path):
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with postgres_schema(database_url, "migrations_check") as url:
        yield url


def test_migrations_build_exactly_the_models_schema(empty_database, tmp_path):
    # The real command, in its own process: Alembic's env.py reconfigures logging.
    config = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": empty_database,
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", f"catalogue:create_app({config!r})", "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    engine = create_engine(empty_database)
    try:
        with engine.connect() as connection:
            # The full text of the stored search documents has no model: SQLite's FTS5 table (and its shadow
            # tables), PostgreSQL's expression index (both made by DDL events of ``catalogue.search.stored``), and
            # the trigram index of ``catalogue.search.postgres_backend``.
            def modelled(name, type_, _parents) -> bool:
                return not (name or "").startswith(
                    ("search_document_fts", "ix_search_document_words", "ix_search_engine_word_trigram")
                )

            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": modelled})
            # Upgraded to the newest revision, and nothing differs from the models.
            heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
            assert set(context.get_current_heads()) == heads
            differences = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert differences == [], pformat(differences)


def _flask_db(config: dict, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", f"catalogue:create_app({config!r})", "db", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_migration_upgrades_a_database_that_has_data(empty_database, tmp_path):
    """An installation with people in it moves to the newest schema (SQLite: foreign keys stay on)."""
    config = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": empty_database,
    }
    _flask_db(config, "upgrade", "912813fb2208")
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO municipality (id, name, kind) VALUES (1, 'город Тулун', 'ГО')"))
            connection.execute(
                text(
                    "INSERT INTO organization (id, name, name_folded, kind, municipality_id)"
                    " VALUES (1, 'МБОУ «СОШ № 2»', 'мбоу «сош № 2»', 'school', 1)"
                )
            )
            connection.execute(
                text(
                    'INSERT INTO "user" (id, email, password_hash, last_name, first_name, middle_name,'
                    " organization_id, municipality_id, search_folded, active, auth_version)"
                    " VALUES (1, 'a@example.ru', 'x', 'Иванова', 'Анна', '', 1, 1, '', :yes, 1)"
                ),
                {"yes": True},
            )
        _flask_db(config, "upgrade")
        with engine.connect() as connection:
            row = connection.execute(
                text('SELECT o.confirmed FROM "user" u JOIN organization o ON o.id = u.organization_id')
            )
            assert row.scalar_one() in (True, 1)  # what was there before counts as checked
    finally:
        engine.dispose()


# -- the browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_home_page_opens_in_a_real_browser(page):
    from playwright.sync_api import expect

    page.goto("/")
    expect(page).to_have_title(re.compile("Профориентация"))

"""Профориентация Приангарья: typical projects, the «СоЗДатель» contest and best practices."""

import os
from pathlib import Path

from flask import Flask
from jinja2 import FileSystemBytecodeCache

from catalogue import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _give_large_blocks_back() -> None:
    """Large blocks (a model's arrays) come from mmap and go back to the system when freed. glibc otherwise raises
    its mmap threshold after the first large free, and later arrays stay on the heap: the same upload then peaked at
    392–410 MB instead of 348 MB (``tests/test_uploads_memory.py``). A no-op without glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD, glibc's default, fixed: no dynamic raise
    except (OSError, AttributeError):
        pass


_give_large_blocks_back()
# The features with content types: each declares them in ``catalogue.<feature>.content`` (see ``catalogue.content``).
FEATURES = ("projects", "practices", "contest")


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the application.

    Settings come, in order of precedence, from ``test_config``, environment variables,
    ``instance/config.py`` and :class:`catalogue.config.DefaultConfig`.
    """
    instance_path = (
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("CATALOGUE_INSTANCE_PATH")
        or str(PROJECT_ROOT / "instance")
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(config_module.DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(config_module.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key(app.instance_path)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI",
        config_module.database_uri(app.config.get("DATABASE_URL"), app.instance_path),
    )
    app.config["WTF_I18N_ENABLED"] = False  # WTForms' own Russian messages are used instead
    _configure_hosts_and_cookies(app)

    _init_extensions(app)
    from catalogue.web import BoundedIntConverter

    # Before the blueprints: their rules are compiled with the converters present at registration.
    app.url_map.converters["int"] = BoundedIntConverter
    _register_blueprints(app)

    from catalogue import cli, formatting, web

    formatting.register(app)
    web.register(app)
    # Compiled templates on disk, shared by the workers: a restarted one loads them instead of compiling.
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(_made(Path(app.instance_path) / "templates-compiled"))
    cli.register(app)
    from catalogue import page_cache
    from catalogue.warm_up import warm_up

    page_cache.init_app(app)  # in front of everything above
    from catalogue import observability

    observability.init_app(app)  # the outermost layer: request ids and logs for page-cache hits too
    warm_up(app)  # last: it handles a request
    return app


def _made(directory: Path) -> str:
    directory.mkdir(exist_ok=True)
    return str(directory)


def _configure_hosts_and_cookies(app: Flask) -> None:
    """Links come from ``SITE_URL``, only its host is served; the remember cookie is as secure as the session's;
    ``PROXY_HOPS`` proxies are believed about the client's address and scheme."""
    app.config["SITE_URL"] = app.config["SITE_URL"].rstrip("/")
    if not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = config_module.trusted_hosts(app.config["SITE_URL"])
    if app.config.get("REMEMBER_COOKIE_SECURE") is None:
        app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _init_extensions(app: Flask) -> None:
    from catalogue import models  # noqa: F401  (registers every table)
    from catalogue.database import configure_sqlite
    from catalogue.extensions import csrf, db, htmx, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    # Batch mode lets later migrations ALTER tables on SQLite too.
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    from catalogue.accounts import sessions

    login_manager.user_loader(sessions.load_session_user)
    sessions.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Войдите, чтобы открыть эту страницу."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def _register_blueprints(app: Flask) -> None:
    from catalogue import content
    from catalogue.accounts.admin_views import bp as admin_users_bp
    from catalogue.accounts.views import bp as accounts_bp
    from catalogue.contest import init_app as init_contest
    from catalogue.feeds import bp as feeds_bp
    from catalogue.main.views import bp as main_bp
    from catalogue.media.views import bp as media_bp
    from catalogue.monitoring.views import bp as monitoring_bp
    from catalogue.practices.views import bp as practices_bp
    from catalogue.projects.views import bp as projects_bp
    from catalogue.search import init_app as init_search
    from catalogue.start.views import bp as start_bp
    from catalogue.subscriptions import init_app as init_subscriptions
    from catalogue.taxonomy.views import bp as taxonomy_bp
    from catalogue.workflow.views import bp as workflow_bp

    content.load_features(FEATURES)
    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_users_bp)
    app.register_blueprint(taxonomy_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(workflow_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(practices_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(start_bp)
    from catalogue.api import bp as api_bp
    from catalogue.api.opendata import bp as opendata_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(opendata_bp)
    app.register_blueprint(monitoring_bp)
    init_contest(app)
    init_search(app)
    init_subscriptions(app)
    from catalogue.jobs import init_app as init_jobs

    init_jobs(app)

"""Full-text search in Russian over everything published: one Whoosh index, kept true through an outbox.

Making a content type searchable
--------------------------------
Give its declaration in ``<feature>/content.py`` (``catalogue.content.ContentType``) a ``search`` part::

    from catalogue.search.registry import SearchableType, SearchDocument

    PRACTICE = ContentType(
        key="practice",                        # also the outbox's and the index's type key
        model=Practice,
        workflow=...,
        search=SearchableType(
            to_document=lambda p: SearchDocument(
                title=p.title,
                text=" ".join([plain_text(p.summary), plain_text(p.body), p.organization.name]),
                age_groups=[g.slug for g in p.age_groups],      # AgeGroup slugs
                spheres=[s.slug for s in p.spheres],            # Sphere slugs
                municipality=str(p.organization.municipality_id),
                date=p.published_at,
            ),
            # Optional: items by id with eager loads for what to_document/facts/url read (fixed query count).
            load=lambda ids: db.session.scalars(
                select(Practice).where(Practice.id.in_(ids)).options(selectinload(Practice.age_groups))
            ).unique(),
            facts=lambda p: [p.organization.municipality.name, f"Пункт {p.roadmap_item} дорожной карты"],
        ),
    )

Nothing else: the unit of work (``catalogue.search.outbox``) writes an outbox row for every item of the type
that a transaction adds, changes or deletes, and the indexer upserts the item while it is public
(``is_public``, status "published" by default) and removes it otherwise. A document that shows another
record (an organization's name, a season's blind flag) declares it in ``depends_on``, e.g.
``Dependency(Organization, lambda o: select(Practice.id).where(Practice.organization_id == o.id), ("name",))``.
``label`` and ``url`` default to the workflow part's. Facet values are keys, not labels; a type whose values
the search cannot label itself (contest seasons, nominations) passes
``facet_labels={"season": function(values) -> {value: label}}``. After adding a type to a site that
already has content, run ``flask --app catalogue search rebuild`` once.

Commands: ``flask --app catalogue search sync [--watch]``, ``rebuild``, ``check``; the measurements of the
engine are in the top-level ``benchmarks`` folder (``python -m benchmarks``).
Configuration: ``SEARCH_SYNC_IN_PROCESS`` (True: apply changes right after each commit in the same
process; False for several worker processes, with ``search sync --watch`` running beside them),
``SEARCH_INDEX_DIR`` (default ``<instance>/search``), ``SEARCH_LOCK_TIMEOUT``, ``SEARCH_PER_PAGE``,
``SEARCH_BACKEND`` (``whoosh``, or ``postgresql``: :mod:`catalogue.search.postgres_backend`).
"""

import os
from pathlib import Path

from flask import Flask

from catalogue.search.registry import SearchableType, SearchDocument

__all__ = ["SearchDocument", "SearchableType", "init_app"]


def init_app(app: Flask) -> None:
    """Configuration defaults, the index backend, the sync hooks, the page and the commands."""
    from catalogue.search import cli, indexer
    from catalogue.search.views import bp

    if "SEARCH_SYNC_IN_PROCESS" in os.environ:
        app.config.setdefault("SEARCH_SYNC_IN_PROCESS", os.environ["SEARCH_SYNC_IN_PROCESS"].lower() in {"1", "true"})
    app.config.setdefault("SEARCH_SYNC_IN_PROCESS", True)
    app.config.setdefault(
        "SEARCH_INDEX_DIR", os.environ.get("SEARCH_INDEX_DIR") or str(Path(app.instance_path) / "search")
    )
    app.config.setdefault("SEARCH_LOCK_TIMEOUT", 2.0)
    app.config.setdefault("SEARCH_PER_PAGE", 10)
    app.extensions[indexer.EXTENSION] = _engine(app)
    indexer.install(app)
    app.register_blueprint(bp)
    app.cli.add_command(cli.search)


def _engine(app: Flask):
    """The engine ``SEARCH_BACKEND`` names: Whoosh (the default), or PostgreSQL's full-text search."""
    from catalogue.search.whoosh_backend import WhooshBackend

    choice = app.config.get("SEARCH_BACKEND") or "whoosh"
    if choice == "whoosh":
        return WhooshBackend(app.config["SEARCH_INDEX_DIR"])
    if choice != "postgresql":
        raise RuntimeError(f"SEARCH_BACKEND: неизвестный поиск «{choice}»; возможны whoosh и postgresql.")
    if not str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        raise RuntimeError(
            "SEARCH_BACKEND=postgresql ищет средствами PostgreSQL, а база данных сайта не PostgreSQL: "
            "укажите DATABASE_URL базы PostgreSQL или SEARCH_BACKEND=whoosh."
        )
    from catalogue.search.postgres_backend import PostgresBackend

    return PostgresBackend(app)

"""The regional contest of children's 3D-modelling projects «СоЗДатель» (roadmap item 4).

Seasons with nominations, age categories, criteria and jury (``seasons``); entries that go through the
shared workflow as content type ``entry``, "publish" meaning admitted to the contest (``entries``);
the jury's scores (``judging``); rankings and awards (``results``); the collection PDF, diplomas and
the organizers' tables (``documents``); models rewritten as plain GLB for the viewer (``viewer``).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint, the workflow content type, the media owner and the searchable type."""
    from catalogue.contest import admin_views, jury_views, parental, views  # noqa: F401  (the modules add the routes)
    from catalogue.contest.entries import (
        OWNER,
        can_read_consent_scan,
        can_read_entry_files,
        file_name_words,
        register_content_type,
    )
    from catalogue.contest.models import Entry
    from catalogue.contest.parental import SCAN_OWNER
    from catalogue.contest.search import register_searchable
    from catalogue.media.access import register_owner
    from catalogue.media.names import register_public_name

    app.register_blueprint(views.bp)
    register_content_type()
    register_owner(OWNER, can_read_entry_files, model=Entry)
    register_owner(SCAN_OWNER, can_read_consent_scan)
    register_public_name(OWNER, file_name_words)
    register_searchable()
    app.add_template_global(parental.current_request, "parental_request")

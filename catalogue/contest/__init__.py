"""The regional contest of children's 3D-modelling projects «СоЗДатель» (roadmap item 4).

Seasons with nominations, age categories, criteria and jury (``seasons``); entries that go through the
shared workflow as content type ``entry``, "publish" meaning admitted to the contest (``entries``);
the jury's scores (``judging``); rankings and awards (``results``); the collection PDF, diplomas and
the organizers' tables (``documents``); models rewritten as plain GLB for the viewer (``viewer``).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint (its content types are declared in ``content``)."""
    from catalogue.contest import admin_views, jury_views, parental, views  # noqa: F401  (the modules add the routes)

    app.register_blueprint(views.bp)
    app.add_template_global(parental.current_request, "parental_request")

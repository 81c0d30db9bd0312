"""Background jobs: heavy work (the contest's collection PDF) never runs in a visitor's request.

A job is a row of the ``job`` table in the site's own database (``models``): a kind registered with the
:func:`job` decorator, JSON arguments, an idempotency key (enqueueing a key that is queued or running does
nothing), a state (queued → running → done, or back to queued with a back-off, or failed after its attempts), and
a lease: a running job whose worker died is taken again once ``locked_until`` has passed (``queue``).

Where it runs, like the search outbox: with ``JOBS_IN_PROCESS = True`` (the default, for ``make run``) a
background thread of the server process drains the queue, started after the response of the request that queued
work has been sent; in production ``flask --app catalogue jobs work`` runs as a process of its own (``worker``).
"""

from catalogue.jobs.queue import JobContext, enqueue, job, latest_done, run_pending

__all__ = ["JobContext", "enqueue", "job", "latest_done", "run_pending"]


def init_app(app) -> None:
    from catalogue.jobs import cli, views, worker

    worker.install(app)
    app.cli.add_command(cli.jobs_cli)
    app.register_blueprint(views.bp)

"""``flask --app catalogue search ...``: sync, rebuild, check."""

import logging
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from catalogue.search import doctor, indexer
from catalogue.search.backend import IndexUnavailable
from catalogue.search.whoosh_backend import WhooshBackend

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0  # seconds between a failing watcher's attempts, at most


@click.group("search", help="Поисковый индекс: синхронизация, перестройка, проверка.")
def search() -> None:
    pass


@search.command("sync")
@click.option("--watch", is_flag=True, help="Keep applying new changes (the indexer process of a deployment).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the outbox.")
@with_appcontext
def sync_command(watch: bool, interval: float) -> None:
    """Apply the outbox to the index (one writer at a time: others wait for the lock).

    With ``--watch`` it never gives up: a failed round (the database away, an unreadable index) is logged and
    tried again after a pause that doubles up to :data:`MAX_BACKOFF` seconds; an index that cannot be read is
    rebuilt (a new generation).
    """
    failures = 0
    while True:
        try:
            report = _sync_round()
        except Exception as e:
            if not watch:
                raise click.ClickException(f"Индекс не обновлён: {_error(e)}") from e
            failures += 1
            pause = min(interval * 2**failures, MAX_BACKOFF)
            log.exception("Search sync failed (attempt %s); next try in %.1f s", failures, pause)
            click.echo(f"Индекс не обновлён ({_error(e)}); следующая попытка через {pause:.1f} с.", err=True)
            _repair_if_broken()
            time.sleep(pause)
            continue
        failures = 0
        if report.error:
            click.echo(f"Индекс не обновлён: {report.error}", err=True)
            if not watch:
                sys.exit(1)
        elif report.applied or report.rebuilt is not None or not watch:
            rebuilt = f", индекс построен заново ({report.rebuilt})" if report.rebuilt is not None else ""
            click.echo(
                f"Применено изменений: {report.applied} (добавлено или обновлено {report.upserted}, "
                f"удалено {report.deleted}){rebuilt}."
            )
        if not watch:
            return
        time.sleep(interval)


def _sync_round() -> indexer.SyncReport:
    # A fresh app context per round: its own session and ``g``, so a long-running watcher never
    # works from rows (or cached lookups such as the age groups) read rounds ago.
    with current_app.app_context():
        return indexer.sync(lock_timeout=60.0)


def _repair_if_broken() -> None:
    """After a failed round: rebuild an index that cannot be read (a database that is away fails this too)."""
    try:
        with current_app.app_context():
            engine = indexer.backend()
            if isinstance(engine, WhooshBackend) and doctor.broken(engine):
                click.echo("Индекс не читается: строится заново.", err=True)
                count = indexer.rebuild(lock_timeout=60.0)
                click.echo(f"Индекс перестроен: {count} материалов.", err=True)
    except Exception:
        log.exception("Search index not repaired; trying again later")


def _error(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


@search.command("rebuild")
@click.option("--procs", default=1, show_default=True, help="Indexing processes (2 on a 2-core machine).")
@click.option("--limitmb", default=512, show_default=True, help="Memory per indexing process, MB.")
@with_appcontext
def rebuild_command(procs: int, limitmb: int) -> None:
    """Build a fresh index from the database and swap it in; searches go on meanwhile."""
    start = time.perf_counter()
    try:
        count = indexer.rebuild(procs=procs, limitmb=limitmb)
    except IndexUnavailable as e:
        raise click.ClickException(f"Индекс не перестроен: {e}") from e
    click.echo(f"Индекс перестроен: {count} материалов за {time.perf_counter() - start:.1f} с.")


@search.command("check")
@with_appcontext
def check_command() -> None:
    """Name what is wrong: a missing or unreadable index (with its files), a dead writer's lock, stale items."""
    engine = indexer.backend()
    whoosh = isinstance(engine, WhooshBackend)
    problems = doctor.problems(engine) if whoosh else doctor.database_problems(engine)
    for problem in problems:
        click.echo(problem)
    if whoosh and doctor.broken(engine):
        click.echo("Исправление: flask --app catalogue search rebuild (сайт тем временем ищет по базе данных).")
        sys.exit(1)
    if not whoosh and not engine.exists():
        click.echo("Исправление: flask --app catalogue search rebuild (или search sync: он построит индекс).")
        sys.exit(1)
    try:
        report = indexer.check()
    except Exception as e:
        click.echo(f"Индекс не проверен: {_error(e)}")
        sys.exit(1)
    click.echo(f"Опубликовано: {report.public}, в индексе: {report.indexed}, в очереди изменений: {report.pending}.")
    for title, keys in (("Нет в индексе", report.missing), ("Устарели", report.stale), ("Лишние", report.extra)):
        if keys:
            click.echo(f"{title} ({len(keys)}): {', '.join(keys[:50])}{' …' if len(keys) > 50 else ''}")
    if report.ok and not problems:
        click.echo("Индекс соответствует базе данных.")
    elif not report.ok:
        click.echo("Исправление: flask --app catalogue search rebuild (или search sync, если есть очередь).")
        sys.exit(1)
    else:
        sys.exit(1)

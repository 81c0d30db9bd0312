"""``flask --app catalogue search ...``: sync, rebuild, check."""

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from catalogue.search import indexer
from catalogue.search.backend import IndexUnavailable


@click.group("search", help="Поисковый индекс: синхронизация, перестройка, проверка.")
def search() -> None:
    pass


@search.command("sync")
@click.option("--watch", is_flag=True, help="Keep applying new changes (the indexer process of a deployment).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the outbox.")
@with_appcontext
def sync_command(watch: bool, interval: float) -> None:
    """Apply the outbox to the index (one writer at a time: others wait for the lock)."""
    while True:
        # A fresh app context per round: its own session and ``g``, so a long-running watcher never
        # works from rows (or cached lookups such as the age groups) read rounds ago.
        with current_app.app_context():
            report = indexer.sync(lock_timeout=60.0)
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
    """Report published items missing from the index, stale in it, or in it though not public."""
    report = indexer.check()
    click.echo(f"Опубликовано: {report.public}, в индексе: {report.indexed}, в очереди изменений: {report.pending}.")
    for title, keys in (("Нет в индексе", report.missing), ("Устарели", report.stale), ("Лишние", report.extra)):
        if keys:
            click.echo(f"{title} ({len(keys)}): {', '.join(keys[:50])}{' …' if len(keys) > 50 else ''}")
    if report.ok:
        click.echo("Индекс соответствует базе данных.")
    else:
        click.echo("Исправление: flask --app catalogue search rebuild (или search sync, если есть очередь).")
        sys.exit(1)

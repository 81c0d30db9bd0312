"""``flask --app catalogue jobs …``: work, list, retry, purge."""

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from catalogue.extensions import db
from catalogue.jobs import queue, worker
from catalogue.jobs.models import Job, JobState

jobs_cli = AppGroup("jobs", help="Фоновые задачи: исполнитель, список, повтор, очистка.")


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Выполнить задачи, готовые к запуску, и выйти.")
@click.option("--poll", default=2.0, show_default=True, help="Секунд между проверками пустой очереди.")
def work_command(once: bool, poll: float) -> None:
    """Исполнитель очереди (в production — отдельный процесс под systemd)."""
    ran = worker.work(current_app._get_current_object(), once=once, poll=poll)
    click.echo(f"Выполнено задач: {ran}.")


@jobs_cli.command("list")
@click.option("--state", type=click.Choice(JobState.ALL), help="Только задачи в этом состоянии.")
@click.option("--limit", default=50, show_default=True)
def list_command(state: str | None, limit: int) -> None:
    """Задачи, новые первыми: номер, вид, ключ, состояние, попытки, время, последняя ошибка."""
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(Job.state == state)
    for item in db.session.scalars(stmt):
        when = item.finished_at or item.started_at or item.created_at
        attempts = f"{item.attempts}/{item.max_attempts}"
        line = f"{item.id}\t{item.kind}\t{item.key}\t{item.state}\t{attempts}\t{when:%Y-%m-%d %H:%M:%S}"
        if item.state == JobState.QUEUED and item.attempts:
            line += f"\tповтор после {item.run_after:%Y-%m-%d %H:%M:%S}"
        if item.last_error:
            line += "\t" + item.last_error.splitlines()[-1]
        click.echo(line)


@jobs_cli.command("retry")
@click.argument("job_id", type=int, required=False)
@click.option("--failed", is_flag=True, help="Все задачи, которые не удались.")
def retry_command(job_id: int | None, failed: bool) -> None:
    """Поставить в очередь снова задачу ID (или все неудавшиеся с --failed)."""
    if job_id is None and not failed:
        raise click.UsageError("Укажите номер задачи или --failed.")
    count = queue.retry(job_id, failed=failed)
    if job_id is not None and not count:
        raise click.ClickException(f"Задача {job_id} не найдена среди неудавшихся (или её ключ снова в очереди).")
    click.echo(f"Снова в очереди: {count}.")


@jobs_cli.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), required=True, help="Дней с завершения.")
def purge_command(days: int) -> None:
    """Удалить завершённые и неудавшиеся задачи старше DAYS дней (последняя готовая каждого ключа остаётся)."""
    click.echo(f"Удалено задач: {queue.purge(dt.timedelta(days=days))}.")

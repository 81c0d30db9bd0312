"""``flask --app catalogue ...`` commands: database set-up, demo content, users."""

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade

from catalogue.accounts.models import Role


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_scale)
    app.cli.add_command(create_user)
    from catalogue.content_io import content_cli

    app.cli.add_command(content_cli)
    from catalogue.backup import backup_cli

    app.cli.add_command(backup_cli)
    from catalogue.projects.runs import runs_cli

    app.cli.add_command(runs_cli)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema and load the standard taxonomies."""
    from catalogue.taxonomy.seed import seed_taxonomies

    upgrade()
    seed_taxonomies()
    click.echo("База данных готова.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load demo content (idempotent: a second run adds nothing)."""
    from catalogue.demo import DEMO_PASSWORD, seed_demo

    created = seed_demo()
    if created:
        click.echo(f"Демонстрационные учётные записи (пароль {DEMO_PASSWORD}):")
        for email in created:
            click.echo(f"  {email}")
    else:
        click.echo("Демонстрационные данные уже загружены.")


@click.command("demo-scale")
@with_appcontext
@click.option("--projects", default=20_000, show_default=True)
@click.option("--entries", default=50_000, show_default=True)
@click.option("--practices", default=2_000, show_default=True)
@click.option("--procs", default=2, show_default=True, help="Search indexing processes.")
def demo_scale(projects: int, entries: int, practices: int, procs: int) -> None:
    """A large data set for measuring speed, on top of the demo content (seed-demo first; once per database)."""
    import time

    from catalogue.demo.scale import already_loaded, load
    from catalogue.errors import InvalidInput
    from catalogue.search import indexer

    if already_loaded():
        raise click.ClickException("Большой набор данных уже загружен в эту базу: повторный запуск ничего не добавит.")
    start = time.perf_counter()
    try:
        load(projects, entries, practices, echo=click.echo)
    except InvalidInput as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Записано за {time.perf_counter() - start:.0f} с; строится поисковый индекс…")
    count = indexer.rebuild(procs=procs, limitmb=512)
    click.echo(f"Готово за {time.perf_counter() - start:.0f} с: в индексе {count} материалов.")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--last-name", required=True)
@click.option("--first-name", required=True)
@click.option("--middle-name", default="")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Можно указать несколько раз.",
)
@click.password_option(prompt="Пароль", confirmation_prompt="Пароль ещё раз")
def create_user(email, last_name, first_name, middle_name, roles, password) -> None:
    """Create a user with the given roles (e.g. the first administrator)."""
    from sqlalchemy import select

    from catalogue.accounts import services
    from catalogue.accounts.models import User
    from catalogue.extensions import db

    if len(password) < services.MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"не короче {services.MIN_PASSWORD_LENGTH} символов", param_hint="пароль")
    if db.session.scalar(select(User.id).where(User.email == services.normalize_email(email))):
        raise click.ClickException(f"Пользователь {email} уже есть.")
    services.create_user(email, password, last_name, first_name, {Role(r) for r in roles}, middle_name)
    db.session.commit()
    click.echo(f"Создан пользователь {email}: {', '.join(Role(r).label for r in roles)}.")

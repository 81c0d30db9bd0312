"""``python -m benchmarks search-bench|search-evaluate|search-judged|login-during-rebuild|collection-check|
server-times|site-bench|slow-requests|models-bench`` (see ``benchmarks``)."""

from pathlib import Path

import click


@click.group(help="Measurements of the site, its search engine and 3D uploads (not tests).")
def main() -> None:
    pass


@main.command("search-evaluate")
@click.option("--database-url", default=None, help="PostgreSQL: also evaluate SEARCH_BACKEND=postgresql there.")
def evaluate_command(database_url: str | None) -> None:
    """Recall and speed of each stemming option on the judged set of Russian queries."""
    from benchmarks.search_evaluation import evaluate_all

    evaluate_all(echo=click.echo, database_url=database_url)


@main.command("search-judged")
@click.option("--database-url", default=None, help="Another database for the throwaway site (default: SQLite).")
@click.option("--misses", is_flag=True, help="List the queries that missed documents.")
@click.option("--shorter-stems", "shorter", default=0, help="Experiment: also match stems cut to this many letters.")
@click.option("--backend", type=click.Choice(["whoosh", "postgresql"]), default="whoosh", show_default=True,
              help="SEARCH_BACKEND of the throwaway site (postgresql needs --database-url).")  # fmt: skip
def judged_command(database_url: str | None, misses: bool, shorter: int, backend: str) -> None:
    """The search page on 158 judged queries by category (typos, layout, prefixes, related words...)."""
    from benchmarks.search_judged import run

    run(database_url, echo=click.echo, misses=misses, shorter=shorter, backend=backend)


@main.command("login-during-rebuild")
@click.option("--projects", default=5_000, show_default=True)
@click.option("--entries", default=5_000, show_default=True)
@click.option("--practices", default=500, show_default=True)
@click.option("--instance", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="An instance folder with a site made before (SQLite): measure it instead of a new one.")  # fmt: skip
def login_during_rebuild_command(projects: int, entries: int, practices: int, instance: Path | None) -> None:
    """Login latency on SQLite while `search rebuild` runs in another process, against a quiet site."""
    from benchmarks.login_during_rebuild import run

    run(projects, entries, practices, echo=click.echo, instance=instance)


@main.command("collection-check")
@click.option("--season", "year", type=int, default=None, help="The season's year (default: the earliest).")
def collection_check_command(year: int | None) -> None:
    """Check the season's built collection PDF against the database: pages, every admitted entry, winners in full."""
    from benchmarks.collection_check import main as check

    check(year, echo=click.echo)


@main.command("search-bench")
@click.option("--docs", default=10_000, show_default=True, help="Synthetic documents to index.")
@click.option("--queries", default=200, show_default=True)
@click.option("--procs", default=2, show_default=True, help="Whoosh indexing processes.")
@click.option("--limitmb", default=1024, show_default=True, help="Memory per indexing process, MB.")
@click.option("--dir", "directory", default=None, help="Where the temporary indexes go (default: system temp).")
@click.option("--database-url", default=None, help="PostgreSQL: also SEARCH_BACKEND=postgresql, on a new schema.")
def bench_command(
    docs: int, queries: int, procs: int, limitmb: int, directory: str | None, database_url: str | None
) -> None:
    """Whoosh beside SQLite FTS5 (and PostgreSQL's engine) on the same synthetic Russian documents and queries."""
    from benchmarks.search_bench import run

    run(docs, queries=queries, procs=procs, limitmb=limitmb, directory=directory, echo=click.echo,
        database_url=database_url)  # fmt: skip


@main.command("site-bench")
@click.option("--workers", default=2, show_default=True, help="gunicorn sync workers of each app.")
@click.option("--rounds", default=6, show_default=True, help="Alternating bursts per page.")
@click.option("--burst", "burst_size", default=40, show_default=True, help="Requests per burst.")
@click.option("--max-seconds", default=30.0, show_default=True, help="Stop a page's rounds after this long.")
@click.option("--query", default="проект", show_default=True, help="The words of the search page measured.")
@click.option("--source", default=None, help="Another checkout of the site to measure (e.g. `git archive` of main).")
@click.option(
    "--visitor", "visitors", multiple=True, default=("anonymous", "teacher@demo.example"), show_default=True,
    help="Who is measured: `anonymous`, or a demo account's e-mail to log in as (repeat for several).",
)
def site_bench_command(
    workers: int, rounds: int, burst_size: int, max_seconds: float, query: str, source: str | None,
    visitors: tuple[str, ...],
) -> None:
    """The pages people open most against a bare Flask app under the same gunicorn (DATABASE_URL, SEARCH_INDEX_DIR
    as for the site)."""

    from benchmarks.site_bench import ROOT, run

    run(database_url=None, index_dir=None, workers=workers, rounds=rounds, burst_size=burst_size,
        max_seconds=max_seconds, query=query, echo=click.echo,
        source=Path(source).resolve() if source else ROOT, visitors=visitors)  # fmt: skip


@main.command("server-times")
@click.option("--runs", default=5, show_default=True)
def server_times_command(runs: int) -> None:
    """Each page's server time for a logged-in person: made (fragment cache empty) and served from it."""
    from benchmarks.server_times import run

    run(runs, echo=click.echo)


@main.command("slow-requests")
@click.option("--runs", default=3, show_default=True)
def slow_requests_command(runs: int) -> None:
    """The slowest legitimate requests' work: a 50 MB model upload and the collection PDF (for gunicorn's timeout)."""
    from benchmarks.slow_requests import run

    run(runs, echo=click.echo)


@main.command("models-bench")
@click.argument("names", nargs=-1)
@click.option("--dir", "directory", default=None, help="Where the temporary models go (default: system temp).")
def models_command(names: tuple[str, ...], directory: str | None) -> None:
    """Time and peak memory of large 3D models through an upload (NAMES: some of the models only)."""
    from benchmarks.models_bench import MODELS, run

    unknown = set(names) - set(MODELS)
    if unknown:
        raise click.BadParameter(f"unknown models {sorted(unknown)}; known: {', '.join(MODELS)}")
    run(list(names) or None, directory=directory, echo=click.echo)


if __name__ == "__main__":
    main()

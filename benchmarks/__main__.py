"""``python -m benchmarks search-bench``, ``search-evaluate`` and ``models-bench`` (see ``benchmarks``)."""

import click


@click.group(help="Measurements of the search engine and of 3D uploads (not tests).")
def main() -> None:
    pass


@main.command("search-evaluate")
def evaluate_command() -> None:
    """Recall and speed of each stemming option on the judged set of Russian queries."""
    from benchmarks.search_evaluation import evaluate_all

    evaluate_all(echo=click.echo)


@main.command("search-bench")
@click.option("--docs", default=10_000, show_default=True, help="Synthetic documents to index.")
@click.option("--queries", default=200, show_default=True)
@click.option("--procs", default=2, show_default=True, help="Whoosh indexing processes.")
@click.option("--limitmb", default=1024, show_default=True, help="Memory per indexing process, MB.")
@click.option("--dir", "directory", default=None, help="Where the temporary indexes go (default: system temp).")
def bench_command(docs: int, queries: int, procs: int, limitmb: int, directory: str | None) -> None:
    """Whoosh beside SQLite FTS5 on the same synthetic Russian documents and queries."""
    from benchmarks.search_bench import run

    run(docs, queries=queries, procs=procs, limitmb=limitmb, directory=directory, echo=click.echo)


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

"""``python -m benchmarks.storage_walk [--uploads N] [--diplomas M]``: how long the sweep of stray uploads
(``media cleanup``) and a backup take to list the stored uploads, in a throwaway ``MEDIA_ROOT`` that also holds the
contest's diplomas (which the listing must leave out). Best of three, in milliseconds."""

import secrets
import shutil
import tempfile
import time
from pathlib import Path

import click
from flask import Flask

from catalogue.media import storage


@click.command()
@click.option("--uploads", default=20_000, show_default=True)
@click.option("--diplomas", default=5_000, show_default=True)
def main(uploads: int, diplomas: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="storage-walk-"))
    app = Flask(__name__)
    app.config["MEDIA_ROOT"] = str(root)
    try:
        with app.app_context():
            for _ in range(uploads):
                storage.write(storage.new_key(), b"x")
            for number in range(diplomas):
                storage.backend().write(f"contest/diplomas/2027/{number}-{secrets.token_hex(12)}.pdf", b"%PDF")
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                found = storage.stored_files()
                timings.append(time.perf_counter() - started)
            assert len(found) == uploads
            click.echo(f"{uploads} uploads beside {diplomas} diplomas: listed in {min(timings) * 1000:.0f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

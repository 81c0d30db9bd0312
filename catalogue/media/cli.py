"""``flask --app catalogue media inspect FILE...``: the checks of a model upload, from the command line.

The command joins the ``media`` group of the blueprint (beside ``media cleanup``).

Each file goes through :func:`~catalogue.media.validation.validate_upload` exactly as an upload does, and
one JSON object per file is printed on its own line (for admins checking files sent by e-mail, for tests
and benchmarks). The exit status is 1 when any file is refused.
"""

import json
import sys
from pathlib import Path

import click

from catalogue.media.errors import UploadError
from catalogue.media.formats import MODEL
from catalogue.media.validation import validate_upload


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def inspect_command(files: tuple[Path, ...]) -> None:
    """Check 3D models as an upload would; print one JSON object per file, per line."""
    refused = False
    for path in files:
        report = inspect(path)
        refused = refused or not report["accepted"]
        click.echo(json.dumps(report, ensure_ascii=False))
    sys.exit(1 if refused else 0)


def inspect(path: Path) -> dict:
    """What an upload of the model at ``path`` would say: accepted or the Russian refusal, and the model's facts."""
    report = {
        "file": str(path),
        "accepted": False,
        "message": None,
        "format": None,
        "triangles": None,
        "size_mm": None,
        "closed": None,
        "volume_mm3": None,
        "unit": None,
        "warnings": [],
    }
    try:
        with path.open("rb") as stream:
            validated = validate_upload(MODEL, path.name, stream)
    except OSError as e:
        report["message"] = f"Файл «{path}» не читается: {e.strerror or e}."
        return report
    except UploadError as e:
        report["message"] = str(e)
        return report
    facts = validated.facts
    report.update(
        accepted=True,
        format=validated.format,
        triangles=facts["triangles"],
        size_mm=facts["size_mm"],
        closed=facts["watertight"],
        volume_mm3=facts.get("volume_mm3"),
        unit=facts.get("unit"),
        warnings=facts.get("warnings", []),
    )
    return report

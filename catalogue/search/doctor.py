"""What is wrong with the index, in words: for ``search check`` and for the indexer deciding to rebuild.

Mostly Whoosh's files; a database engine (``SEARCH_BACKEND=postgresql``) has only :func:`database_problems`.
"""

import gc
import warnings
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from catalogue.search import locks
from catalogue.search.whoosh_backend import WhooshBackend


def missing(whoosh: WhooshBackend) -> str | None:
    """Why there is no live generation to read, or None when there is one."""
    root = whoosh.root
    if not root.is_dir():
        return f"Индекс не найден: нет папки {root}."
    name = whoosh.current_name()
    if name is None:
        return f"Индекс не найден: в папке {root} нет файла CURRENT с именем поколения."
    if not (root / name).is_dir():
        return f"Индекс не найден: поколения {name}, на которое указывает CURRENT, нет в папке {root}."
    return None


def unreadable(whoosh: WhooshBackend, path: Path) -> list[str]:
    """The parts of the generation at ``path`` that cannot be read, each with its file names.

    Every segment's stored fields, terms and columns are read through: what a search or an update would touch.
    """
    try:
        ix = whoosh_index.open_dir(str(path), schema=whoosh.schema)
        segments = ix._segments()
    except Exception as e:
        release(e)
        return [f"Поколение {path.name} не читается: оглавление {_files(path, '_*.toc')} ({_error(e)})."]
    problems = []
    for segment in segments:
        reader = None
        try:
            reader = SegmentReader(ix.storage, ix.schema, segment)
            for _fields in reader.all_stored_fields():
                pass
            for _term in reader.all_terms():
                pass
            for field in ("date", "title_len", "text_len"):
                if reader.has_column(field):
                    list(reader.column_reader(field))
        except Exception as e:
            release(e)
            files = _files(path, f"{segment.segment_id()}.*")
            problems.append(f"Поколение {path.name}: сегмент не читается, файлы {files} ({_error(e)}).")
        finally:
            if reader is not None:
                reader.close()
    return problems


def problems(whoosh: WhooshBackend) -> list[str]:
    """Everything wrong with the index's files and lock (an empty list: it can be read and written)."""
    gone = missing(whoosh)
    found = [gone] if gone else unreadable(whoosh, whoosh.root / whoosh.current_name())
    holder = locks.dead_holder(whoosh.root) if whoosh.root.is_dir() else None
    if holder is not None:
        found.append(
            f"Блокировку записи {whoosh.root / locks.LOCK} держит процесс {holder.pid}, которого уже нет: "
            "следующая запись в индекс снимет её."
        )
    return found


def broken(whoosh: WhooshBackend) -> bool:
    """The live generation is missing or cannot be read (a rebuild is what repairs it)."""
    return missing(whoosh) is not None or bool(unreadable(whoosh, whoosh.root / whoosh.current_name()))


def release(error: BaseException) -> None:
    """Close, quietly, the files Whoosh left open in the frames of ``error`` (it does not close a file it failed
    to read): without this each would be reported as an unclosed file when the error is forgotten."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        while error is not None:
            error.__traceback__ = None
            error = error.__cause__ or error.__context__
        gc.collect()


def database_problems(engine) -> list[str]:
    """What is wrong with a database engine's index: not built yet, or the trigram extension missing."""
    from sqlalchemy import text

    from catalogue.extensions import db

    found = []
    if not engine.exists():
        found.append("Индекс в базе данных ещё не построен (SEARCH_BACKEND=postgresql).")
    if db.session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is None:
        found.append("В базе данных нет расширения pg_trgm: выполните flask --app catalogue db upgrade.")
    db.session.rollback()
    return found


def _files(path: Path, pattern: str) -> str:
    names = sorted(p.name for p in path.glob(pattern))
    return ", ".join(names) if names else f"{pattern} (нет таких файлов)"


def _error(e: Exception) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__

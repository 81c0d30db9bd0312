"""Content in and out as JSON: ``flask --app catalogue content import FILE.json`` and ``content export FILE.json``.

Each content type that travels declares a :class:`ContentIO` part in its ``<feature>/content.py``: its section of
the file, the site's own form that checks an item, how each JSON field fills that form, and how an item is found,
created, updated and written out. :func:`import_data` checks every item of every section first and lists every
error; only a file without errors is written, in one transaction (:func:`catalogue.unit_of_work.one_transaction`),
through the features' services and the workflow's transitions, the importing administrator as the actor.
Sections are read in the order the types are registered, so a report finds the project the same file brings.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Select, select
from werkzeug.datastructures import MultiDict

from catalogue import content
from catalogue.accounts.models import Role, User
from catalogue.errors import DomainError
from catalogue.extensions import db
from catalogue.permissions import Conflict, NotFound, PermissionDenied
from catalogue.taxonomy.models import Municipality, Organization
from catalogue.unit_of_work import one_transaction
from catalogue.workflow import services as workflow
from catalogue.workflow.models import EDITABLE, Status

FORMAT = "proforientir-content"
VERSION = 1
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LIST = 100  # the most taxonomy terms or numbers one field may list
STATES = ("draft", "published")


class FieldError(Exception):
    """A JSON value that cannot fill its field; the message is for the person."""


class ImportFailed(Exception):
    """The file was not imported; ``errors`` lists every reason, in Russian."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


# -- readers: a JSON value -> the form data of one field --------------------------------------------

Pairs = list[tuple[str, str]]


def clean(value: str) -> str:
    """``value`` if a database may hold it: no NUL, no lone surrogate (JSON's ``\\ud800``)."""
    if "\x00" in value:
        raise FieldError("недопустимый символ NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("недопустимый символ (одиночный суррогат)") from None
    return value


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FieldError(f"ожидается текст или число, а не {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "логическое значение"
    if isinstance(value, list):
        return "список"
    if isinstance(value, dict):
        return "объект"
    if isinstance(value, float):
        return "дробное число"
    if isinstance(value, int):
        return "число"
    return "текст"


def text(value: Any, name: str, importer: "Importer") -> Pairs:
    """Text (a number is taken as its digits); null is an empty field."""
    return [] if value is None else [(name, _scalar(value))]


def _list(value: Any, limit: int = MAX_LIST) -> list:
    if not isinstance(value, list):
        raise FieldError(f"ожидается список, а не {_kind(value)}")
    if len(value) > limit:
        raise FieldError(f"не больше {limit} значений")
    return value


def numbers(value: Any, name: str, importer: "Importer") -> Pairs:
    """A list of whole numbers."""
    pairs = []
    for number in _list(value):
        if not isinstance(number, int) or isinstance(number, bool):
            raise FieldError(f"ожидается список целых чисел, а в нём {_kind(number)}")
        pairs.append((name, str(number)))
    return pairs


def terms(model: type) -> Callable[[Any, str, "Importer"], Pairs]:
    """A list of slugs of ``model`` (age groups, spheres): the form gets their ids."""

    def read(value: Any, name: str, importer: "Importer") -> Pairs:
        ids = importer.slugs(model)
        pairs = []
        for slug in _list(value):
            if not isinstance(slug, str):
                raise FieldError(f"ожидается список кодов, а в нём {_kind(slug)}")
            if slug not in ids:
                raise FieldError(f"нет такого значения «{short(slug)}»")
            pairs.append((name, str(ids[slug])))
        return pairs

    return read


def organization(value: Any, name: str, importer: "Importer") -> Pairs:
    """An organization by its name, or ``{"name": …, "municipality": …}`` where the name alone is not unique."""
    municipality = None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"name", "municipality"})
        if unknown:
            raise FieldError(f"неизвестное поле «{short(unknown[0])}»")
        value, municipality = value.get("name"), value.get("municipality")
        if municipality is not None and not isinstance(municipality, str):
            raise FieldError(f"муниципалитет: ожидается текст, а не {_kind(municipality)}")
    if not isinstance(value, str):
        raise FieldError(f"ожидается название или объект с «name» и «municipality», а не {_kind(value)}")
    stmt = select(Organization.id).where(Organization.name == clean(value).strip())
    if municipality is not None:
        stmt = stmt.join(Organization.municipality).where(Municipality.name == clean(municipality).strip())
    found = db.session.scalars(stmt.limit(2)).all()
    where = f" ({short(municipality)})" if municipality else ""
    if not found:
        raise FieldError(f"нет такой организации «{short(value)}»{where}")
    if len(found) > 1:
        raise FieldError(f"организаций «{short(value)}» несколько: укажите и муниципалитет")
    return [(name, str(found[0]))]


def export_organization(org: Organization) -> dict[str, str]:
    """How an export names an organization: what :func:`organization` reads back."""
    return {"name": org.name, "municipality": org.municipality.name}


def rows(*keys: str, limit: int) -> Callable[[Any, str, "Importer"], Pairs]:
    """An ordered list of objects with ``keys`` (stages, steps): the rows of a FieldList."""

    def read(value: Any, name: str, importer: "Importer") -> Pairs:
        pairs = []
        for n, row in enumerate(_list(value, limit)):
            if not isinstance(row, dict):
                raise FieldError(f"строка {n + 1}: ожидается объект, а не {_kind(row)}")
            unknown = sorted(set(row) - set(keys))
            if unknown:
                raise FieldError(f"строка {n + 1}: неизвестное поле «{short(unknown[0])}»")
            for key in keys:
                if row.get(key) is not None:
                    try:
                        pairs.append((f"{name}-{n}-{key}", _scalar(row[key])))
                    except FieldError as e:
                        raise FieldError(f"строка {n + 1}, «{key}»: {e}") from None
        return pairs

    return read


@dataclass(frozen=True)
class Field:
    """One key of an item's JSON and the form field it fills; ``label`` names it where the form's label does not."""

    name: str
    read: Callable[[Any, str, "Importer"], Pairs] = text
    form_field: str = ""  # the name in the form; the JSON name by default
    label: str = ""

    @property
    def target(self) -> str:
        return self.form_field or self.name


@dataclass(frozen=True)
class Link:
    """A key naming another record that the form does not hold (a report's project): ``resolve`` checks it and
    returns what the type's functions get in ``Incoming.links``."""

    name: str
    label: str
    resolve: Callable[[Any, "Importer"], Any]


# -- the part of a content type ----------------------------------------------------------------------


@dataclass
class Incoming:
    """One checked item of the file: its JSON, its validated form, its author and its links."""

    number: int
    raw: dict[str, Any]
    form: Any
    author: User
    links: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # «Проект 3 «Название»»: how messages name it


@dataclass(kw_only=True)
class ContentIO:
    """How one content type travels in the JSON of ``content import`` and ``content export``.

    ``form(formdata)`` is the site's form for the type, ready to validate (choices filled, no CSRF);
    ``fields`` fill it from the item's JSON; ``links`` are the other records an item names; an item also has
    ``author`` (an e-mail), whose account must exist and hold one of ``author_roles``. ``identity(incoming)`` is
    the natural key (title and author) that two items of one file may not share; ``find(incoming)`` is the
    existing item with that key, which is updated instead of duplicated. ``create`` and ``update`` write through
    the feature's services (the caller's transaction), ``export(item)`` is the JSON an import reads back, and
    ``exported(all_states)`` selects what ``content export`` writes: the published items, or all.
    """

    key: str = ""
    model: type | None = None
    section: str  # «projects»: the key of the file's list
    label: str  # «Проект»
    form: Callable[[MultiDict], Any]
    fields: tuple[Field, ...]
    links: tuple[Link, ...] = ()
    author_roles: tuple[Role, ...]
    title: Callable[[dict[str, Any]], Any]
    identity: Callable[[Incoming], tuple]
    find: Callable[[Incoming], Any]
    create: Callable[[Incoming], Any]
    update: Callable[[Any, Incoming], None]
    export: Callable[[Any], dict[str, Any]]
    exported: Callable[[bool], Select]

    @property
    def keys(self) -> set[str]:
        return {"author"} | {f.name for f in self.fields} | {link.name for link in self.links}


def types() -> list[ContentIO]:
    """The types that travel, in the order they were registered (a report after the project it names)."""
    return [t.content_io for t in content.all_types() if t.content_io is not None]


# -- import -----------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)


class Importer:
    """One import: the lookups it caches, the errors it has found, the items it has checked."""

    def __init__(self, data: Any, state: str = "published"):
        self.data = data
        self.state = state  # what the file's items become: a link may depend on it
        self.errors: list[str] = []
        self.items: list[tuple[ContentIO, Incoming]] = []
        self._slugs: dict[type, dict[str, int]] = {}
        self._users: dict[str, User | None] = {}

    def slugs(self, model: type) -> dict[str, int]:
        if model not in self._slugs:
            self._slugs[model] = {slug: id_ for slug, id_ in db.session.execute(select(model.slug, model.id))}
        return self._slugs[model]

    def section(self, name: str) -> list:
        """The raw items of section ``name`` (empty when the file has none)."""
        items = self.data.get(name, []) if isinstance(self.data, dict) else []
        return items if isinstance(items, list) else []

    def user(self, email: str) -> User | None:
        key = email.strip().lower()
        if key not in self._users:
            self._users[key] = db.session.scalar(select(User).where(User.email == key))
        return self._users[key]

    def check(self) -> None:
        if not isinstance(self.data, dict):
            self.errors.append(f"Файл: ожидается объект с разделами, а не {_kind(self.data)}.")
            return
        sections = {io.section: io for io in types()}
        for key in self.data:
            if key not in sections and key not in ("format", "version"):
                self.errors.append(f"Файл: неизвестный раздел «{short(str(key))}».")
        if self.data.get("format", FORMAT) != FORMAT:
            self.errors.append(f"Файл: «format» должен быть «{FORMAT}».")
        if self.data.get("version", VERSION) != VERSION:
            self.errors.append(f"Файл: версия формата {VERSION}, другие не поддерживаются.")
        for io in sections.values():
            items = self.data.get(io.section, [])
            if not isinstance(items, list):
                self.errors.append(f"Раздел «{io.section}»: ожидается список, а не {_kind(items)}.")
                continue
            seen: dict[tuple, int] = {}
            for number, raw in enumerate(items, start=1):
                self._check_item(io, number, raw, seen)

    def _check_item(self, io: ContentIO, number: int, raw: Any, seen: dict[tuple, int]) -> None:
        name = f"{io.label} {number}"
        if not isinstance(raw, dict):
            self.errors.append(f"{name}: ожидается объект, а не {_kind(raw)}.")
            return
        title = io.title(raw)
        if isinstance(title, str) and title.strip():
            name += f" «{short(title)}»"
        errors = [f"неизвестное поле «{short(str(k))}»" for k in raw if k not in io.keys]
        author = self._author(io, raw.get("author"), errors)
        links = {}
        for link in io.links:
            try:
                links[link.name] = link.resolve(raw.get(link.name), self)
            except FieldError as e:
                errors.append(f"поле «{link.label}»: {e}")
        pairs: Pairs = []
        unreadable: list[tuple[Field, FieldError]] = []
        for f in io.fields:
            try:
                pairs += f.read(raw.get(f.name), f.target, self)
            except FieldError as e:
                unreadable.append((f, e))
        form = io.form(MultiDict(pairs))
        labels = {f.target: f.label or form[f.target].label.text for f in io.fields}
        errors += [f"поле «{labels[f.target]}»: {e}" for f, e in unreadable]
        # The form checks the rest; a field that could not be read has said what is wrong with it
        if not form.validate():
            errors += list(_form_errors(form, labels, skip={f.target for f, _e in unreadable}))
        if not errors:
            incoming = Incoming(number, raw, form, author, links, name)
            if (identity := io.identity(incoming)) in seen:
                errors.append(f"повторяет {io.label.lower()} {seen[identity]}: то же название и тот же автор")
            else:
                seen[identity] = number
                self.items.append((io, incoming))
        self.errors += [f"{name}: {e}" for e in errors]

    def _author(self, io: ContentIO, email: Any, errors: list[str]) -> User | None:
        label = "поле «Автор»"
        if not isinstance(email, str) or not email.strip():
            errors.append(f"{label}: укажите e-mail автора")
            return None
        try:
            author = self.user(clean(email))
        except FieldError as e:
            errors.append(f"{label}: {e}")
            return None
        if author is None:
            errors.append(f"{label}: нет пользователя с адресом «{short(email)}»")
        elif not author.active:
            errors.append(f"{label}: учётная запись «{author.email}» отключена")
        elif not author.has_role(*io.author_roles):
            roles = ", ".join(r.label for r in io.author_roles)
            errors.append(f"{label}: у «{author.email}» нет нужной роли ({roles})")
        else:
            return author
        return None


def short(value: str, limit: int = 80) -> str:
    """``value`` on one line, cut to ``limit`` characters, fit to print in a message (NUL, control characters and
    lone surrogates become «�»)."""
    value = "".join(c if c.isprintable() else "�" for c in " ".join(str(value).split()))  # a surrogate is not
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _form_errors(form, labels: dict[str, str], skip: set[str]) -> Iterable[str]:
    """Every error of a validated form but those of fields in ``skip``, as «поле «Метка»: сообщение» (rows of
    a list by number)."""
    for f in form:
        if f.name in skip:
            continue
        label = labels.get(f.name) or f.label.text
        for error in f.errors:
            if isinstance(error, str):
                yield f"поле «{label}»: {error}"
        for n, entry in enumerate(getattr(f, "entries", None) or []):
            for sub in getattr(entry, "form", ()):
                for error in sub.errors:
                    yield f"поле «{label}», строка {n + 1}, «{sub.label.text}»: {error}"


def _refusal(e: Exception) -> str:
    if isinstance(e, PermissionDenied):
        return "у автора нет прав на это действие"
    if isinstance(e, NotFound):
        return "связанный материал не найден или не опубликован"
    return str(e)


def import_data(data: Any, admin: User, state: str = "published", source: str = "") -> ImportReport:
    """Import parsed JSON ``data`` as ``admin``: all of it, or nothing.

    New items are created by their authors' services and taken to ``state`` by real transitions (submitted on
    the author's behalf and published by ``admin``, both recorded with ``admin`` as the actor); an item with the
    same title and author is updated in place, its history recording the edit, and then taken to ``state`` too
    (an item that is further along stays where it is).

    :raise ImportFailed: with every error of the file (nothing written), or the first refusal of a service.
    """
    if state not in STATES:
        raise ImportFailed([f"Состояние «{state}» неизвестно: «draft» или «published»."])
    if not (admin.active and admin.has_role(Role.ADMIN)):
        raise ImportFailed([f"Импортирует администратор: у «{admin.email}» нет этой роли."])
    importer = Importer(data, state)
    importer.check()
    if importer.errors:
        raise ImportFailed(importer.errors)
    report = ImportReport()
    comment = f"Импорт из файла {source}" if source else "Импорт"
    current: Incoming | None = None
    try:
        with one_transaction():
            for io, incoming in importer.items:
                current = incoming
                item = io.find(incoming)
                if item is None:
                    item = io.create(incoming)
                    _count(report.created, io)
                else:
                    before = io.export(item)
                    if incoming.raw != before:  # a file the site exported, brought back as it was, changes nothing
                        io.update(item, incoming)
                        db.session.flush()
                    if io.export(item) != before:
                        workflow.record_edit(admin, item, comment)
                        _count(report.updated, io)
                    else:
                        _count(report.unchanged, io)
                _advance(admin, item, state, comment)
    except (DomainError, PermissionDenied, Conflict, NotFound) as e:
        raise ImportFailed([f"{current.name if current else 'Файл'}: {_refusal(e)}"]) from e
    return report


def _count(counts: dict[str, int], io: ContentIO) -> None:
    counts[io.section] = counts.get(io.section, 0) + 1


def _advance(admin: User, item, state: str, comment: str) -> None:
    """Take ``item`` to ``state`` as a moderator would; one further along (published, archived) stays."""
    if state != "published":
        return
    if item.status in EDITABLE:
        workflow.transition(admin, item, "submit", comment, by_rule=True)
    if item.status == Status.SUBMITTED:
        workflow.transition(admin, item, "publish", comment)


def read_file(path: Path) -> Any:
    """The parsed JSON of ``path``. :raise ImportFailed: too large, not UTF-8 or not JSON."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed([f"Файл больше {MAX_FILE_BYTES // (1024 * 1024)} МБ."])
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ImportFailed([f"Файл не в кодировке UTF-8 (байт {e.start + 1})."]) from None
    except json.JSONDecodeError as e:
        raise ImportFailed([f"Файл не JSON: строка {e.lineno}, символ {e.colno}: {e.msg}."]) from None
    except RecursionError:
        raise ImportFailed(["Файл не JSON такого вида: слишком глубокая вложенность."]) from None


# -- export -----------------------------------------------------------------------------------------


def export_data(all_states: bool = False) -> dict[str, Any]:
    """Everything published (or, with ``all_states``, everything) in the format :func:`import_data` reads."""
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    for io in types():
        data[io.section] = [io.export(item) for item in db.session.scalars(io.exported(all_states))]
    return data


def published_or_all(model: type, all_states: bool) -> Select:
    """``exported`` of a moderated model: its published items (or all), oldest first."""
    stmt = select(model).order_by(model.id)
    return stmt if all_states else stmt.where(model.status == Status.PUBLISHED)


# -- the commands -----------------------------------------------------------------------------------


@click.group("content", help="Материалы сайта: импорт и экспорт в JSON.")
def content_cli() -> None:
    pass


@content_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--admin", "admin_email", required=True, help="E-mail of the importing administrator.")
@click.option("--state", type=click.Choice(STATES), default="published", show_default=True)
@with_appcontext
def import_command(path: Path, admin_email: str, state: str) -> None:
    """Import projects, reports and practices from a JSON file: all of them or, on any error, none."""
    admin = db.session.scalar(select(User).where(User.email == admin_email.strip().lower()))
    if admin is None:
        raise click.ClickException(f"Нет пользователя {admin_email}.")
    try:
        # Transitions link their notices to pages: URLs need a request context on the command line.
        with current_app.test_request_context("/"):
            report = import_data(read_file(path), admin, state, source=path.name)
    except ImportFailed as e:
        click.echo(f"Ничего не импортировано. Ошибок: {len(e.errors)}.", err=True)
        for error in e.errors:
            click.echo(f"  {error}", err=True)
        raise SystemExit(1) from None
    for io in types():
        created, updated = report.created.get(io.section, 0), report.updated.get(io.section, 0)
        unchanged = report.unchanged.get(io.section, 0)
        if created or updated or unchanged:
            click.echo(f"{io.section}: создано {created}, обновлено {updated}, без изменений {unchanged}")
    click.echo("Импорт завершён.")


@content_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "all_states", is_flag=True, help="Every item, not only the published ones.")
@with_appcontext
def export_command(path: Path, all_states: bool) -> None:
    """Write the published projects, reports and practices (or all of them) to a JSON file."""
    data = export_data(all_states)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(f"{io.section}: {len(data[io.section])}" for io in types())
    click.echo(f"Записано в {path}: {counts}.")

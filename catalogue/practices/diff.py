"""What a revision changes, field by field, as readable HTML: removed words in <del>, added in <ins>.

Every piece of user text is escaped before the markup is added, so a diff never carries the author's HTML.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape
from sqlalchemy import select

from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.practices.data import PracticeData
from catalogue.practices.roadmap import BY_NUMBER
from catalogue.taxonomy.models import Organization, Sphere

# Fields in the order of the practice page; each shown as text for comparison.
FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "Название"),
    ("summary", "Кратко о практике"),
    ("organization", "Организация"),
    ("roadmap", "Пункты дорожной карты"),
    ("grades", "Классы"),
    ("spheres", "Профессиональные сферы"),
    ("participants", "Участников"),
    ("student_share", "Доля обучающихся организации"),
    ("period", "Период"),
    ("results", "Результаты и эффекты"),
    ("resources", "Что понадобится"),
    ("steps", "Как повторить: шаги"),
    ("description", "Подробное описание"),
    ("contacts", "Контакты"),
)
LABELS = dict(FIELDS)
# Single values: a word diff of two school names reads worse than «old → new» whole.
WHOLE_VALUES = frozenset({"organization", "grades", "participants", "student_share", "period"})
# Words and the whitespace between them, so that a diff keeps the text's own spacing and line breaks.
TOKEN = re.compile(r"\s+|\S+")
# Beyond this many tokens a word diff gets slow (quadratic); compare whole lines instead.
MAX_WORD_TOKENS = 6000


@dataclass(frozen=True)
class FieldChange:
    key: str
    label: str
    old: str
    new: str
    html: Markup


@dataclass
class Names:
    organizations: dict[int, str]
    spheres: dict[int, str]


def names_for(*versions: PracticeData) -> Names:
    """Names of the organizations and spheres the versions refer to (two queries)."""
    org_ids = {v.organization_id for v in versions}
    sphere_ids = {i for v in versions for i in v.sphere_ids}
    organizations = {
        o.id: f"{o.name} ({o.municipality.name})"
        for o in db.session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
    }
    spheres = {
        id_: name for id_, name in db.session.execute(select(Sphere.id, Sphere.name).where(Sphere.id.in_(sphere_ids)))
    }
    return Names(organizations, spheres)


def _grades(data: PracticeData) -> str:
    if data.grade_from == data.grade_to:
        return f"{data.grade_from} класс"
    return f"{data.grade_from}–{data.grade_to} классы"


def _period(data: PracticeData) -> str:
    end = ru_date(data.period_to) if data.period_to else "настоящее время"
    return f"с {ru_date(data.period_from)} по {end}"


def _steps(data: PracticeData) -> str:
    parts = []
    for n, step in enumerate(data.steps, start=1):
        parts.append(f"{n}. {step.title}" + (f"\n{step.description}" if step.description else ""))
    return "\n\n".join(parts)


def as_text(data: PracticeData, names: Names) -> dict[str, str]:
    """Every field of ``data`` as the text a reader compares."""
    return {
        "title": data.title,
        "summary": data.summary,
        "organization": names.organizations.get(data.organization_id, f"организация № {data.organization_id}"),
        "roadmap": "\n".join(
            f"{n}. {BY_NUMBER[n].title}" if n in BY_NUMBER else str(n) for n in sorted(data.roadmap_items)
        ),
        "grades": _grades(data),
        "spheres": "\n".join(names.spheres.get(i, str(i)) for i in data.sphere_ids),
        "participants": str(data.participants) if data.participants is not None else "не указано",
        "student_share": f"{data.student_share} %" if data.student_share is not None else "не указано",
        "period": _period(data),
        "results": data.results,
        "resources": data.resources or "",
        "steps": _steps(data),
        "description": data.description,
        "contacts": data.contacts,
    }


def diff_html(old: str, new: str) -> Markup:
    """``old`` turned into ``new``: unchanged text as is, removals in ``<del>``, additions in ``<ins>``."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    if len(a) + len(b) > MAX_WORD_TOKENS:
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(_escaped(a[i1:i2]))
            continue
        if i2 > i1:
            parts.append(f"<del>{_escaped(a[i1:i2])}</del>")
        if j2 > j1:
            parts.append(f"<ins>{_escaped(b[j1:j2])}</ins>")
    return Markup("".join(parts))  # noqa: S704  (every piece escaped by _escaped)


def _escaped(tokens: list[str]) -> str:
    # Line breaks as <br>: the page needs no inline style (the CSP forbids it) to keep them.
    return str(escape("".join(tokens))).replace("\n", "<br>\n")


def replacement_html(old: str, new: str) -> Markup:
    """``old`` struck out whole, ``new`` added whole."""
    return Markup(f"<del>{_escaped([old])}</del> <ins>{_escaped([new])}</ins>")  # noqa: S704  (escaped)


def changes(old: PracticeData, new: PracticeData) -> list[FieldChange]:
    """The fields that differ between two versions, in page order, each with its diff."""
    names = names_for(old, new)
    before, after = as_text(old.normalized(), names), as_text(new.normalized(), names)
    result = []
    for key, label in FIELDS:
        if before[key] == after[key]:
            continue
        render = replacement_html if key in WHOLE_VALUES else diff_html
        result.append(FieldChange(key, label, before[key], after[key], render(before[key], after[key])))
    return result


def list_change(key: str, label: str, old: list[str], new: list[str]) -> FieldChange:
    """A change of a list, compared item by item (e.g. the names of attached files), one item a line."""
    parts: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts += [str(escape(item)) for item in old[i1:i2]]
            continue
        parts += [f"<del>{escape(item)}</del>" for item in old[i1:i2]]
        parts += [f"<ins>{escape(item)}</ins>" for item in new[j1:j2]]
    html = Markup("<br>\n".join(parts))  # noqa: S704  (every item escaped above)
    return FieldChange(key, label, "\n".join(old), "\n".join(new), html)

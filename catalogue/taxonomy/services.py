"""Reading the taxonomies (for forms and filters) and editing them (administrators)."""

import re
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from catalogue.errors import DomainError
from catalogue.extensions import db
from catalogue.formatting import fold, like_words, ru_sort_key
from catalogue.pagination import FIRST_PAGE, Pager, paginate
from catalogue.permissions import require_role
from catalogue.roles import Role
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, OrganizationKind, Sphere

ORGANIZATION_OPTIONS_LIMIT = 30
ORGANIZATIONS_PER_PAGE = 50
MAX_QUERY_WORDS = 6
MUNICIPALITY_KINDS = ("городской округ", "муниципальный округ", "муниципальный район")
GRADES = range(6, 12)
# Slugs go into addresses (``/projects/?sphere=oil-gas``): lowercase latin words joined by single hyphens.
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MESSAGE = "Только строчные латинские буквы, цифры и дефис между ними, например «oil-gas»."


class TaxonomyError(DomainError):
    """An edit of a taxonomy that cannot be saved; the message is for the person, ``field`` says where."""


# -- reading ----------------------------------------------------------------------------------


def municipalities() -> list[Municipality]:
    """All municipalities: city districts first, then districts, each alphabetically."""
    rows = db.session.scalars(select(Municipality)).all()
    return sorted(rows, key=lambda m: (m.kind != "городской округ", ru_sort_key(m.name)))


def organizations_by_municipality() -> list[Organization]:
    """Every organization, by municipality and then by name (for a grouped list to choose from)."""
    rows = db.session.scalars(select(Organization)).all()
    return sorted(rows, key=lambda o: (ru_sort_key(o.municipality.name), ru_sort_key(o.name)))


def age_groups() -> list[AgeGroup]:
    return list(db.session.scalars(select(AgeGroup).order_by(AgeGroup.position, AgeGroup.grade_from)))


def spheres() -> list[Sphere]:
    return list(db.session.scalars(select(Sphere).order_by(Sphere.position, Sphere.name)))


def _matching_organizations(query: str = "", municipality_id: int | None = None) -> Select:
    """Organizations whose folded name contains every word of ``query``, optionally in one municipality."""
    stmt = select(Organization)
    if municipality_id is not None:
        stmt = stmt.where(Organization.municipality_id == municipality_id)
    for word in like_words(query, MAX_QUERY_WORDS):
        stmt = stmt.where(Organization.name_folded.contains(word, autoescape=True))
    return stmt


def search_organizations(
    query: str = "", municipality_id: int | None = None, limit: int = ORGANIZATION_OPTIONS_LIMIT
) -> list[Organization]:
    """Organizations whose name contains every word of ``query`` (any case, ё = е), in a municipality."""
    if not like_words(query, MAX_QUERY_WORDS) and municipality_id is None:
        return []
    stmt = _matching_organizations(query, municipality_id)
    rows = db.session.scalars(stmt.order_by(Organization.name_folded, Organization.id).limit(limit)).all()
    return sorted(rows, key=lambda o: ru_sort_key(o.name))


def organization_page(
    query: str = "",
    municipality_id: int | None = None,
    kind: str = "",
    pager: Pager = FIRST_PAGE,
    pending: bool = False,
):
    """One page of all organizations matching ``query``, in a municipality and of a kind, by name;
    ``pending``: only those people added at registration that no administrator has checked yet."""
    stmt = _matching_organizations(query, municipality_id)
    if kind in OrganizationKind.LABELS:
        stmt = stmt.where(Organization.kind == kind)
    if pending:
        stmt = stmt.where(Organization.confirmed.is_(False))
    return paginate(stmt, [Organization.name_folded, Organization.id], pager, per_page=ORGANIZATIONS_PER_PAGE)


def organization_counts() -> dict[int, int]:
    """How many organizations each municipality has, by municipality id."""
    rows = db.session.execute(select(Organization.municipality_id, func.count()).group_by(Organization.municipality_id))
    return {municipality_id: count for municipality_id, count in rows}


def pending_organizations_count() -> int:
    return db.session.scalar(select(func.count(Organization.id)).where(Organization.confirmed.is_(False)))


def taxonomy_sizes() -> dict[str, int]:
    """How many rows each taxonomy has, for the administrators' overview."""
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Municipality, Organization, AgeGroup, Sphere)
    }


def next_position(model: type[AgeGroup] | type[Sphere]) -> int:
    """The position that puts a new age group or sphere at the end of its list."""
    return (db.session.scalar(select(func.max(model.position))) or 0) + 1


# -- editing (administrators) -----------------------------------------------------------------


def clean_text(text: str) -> str:
    """``text`` with its runs of whitespace made single spaces, trimmed."""
    return " ".join((text or "").split())


def _commit(message: str, field: str) -> None:
    """Commit; a unique constraint broken by a concurrent edit becomes a :class:`TaxonomyError`."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise TaxonomyError(message, field) from None


def _check_slug(model: type[AgeGroup] | type[Sphere], row_id: int | None, slug: str) -> None:
    if not SLUG_PATTERN.fullmatch(slug):
        raise TaxonomyError(SLUG_MESSAGE, "slug")
    if db.session.scalar(select(model.id).where(model.slug == slug, model.id != (row_id or 0))) is not None:
        raise TaxonomyError(f"Адрес «{slug}» уже занят. Придумайте другой.", "slug")


def _name_taken(model, row_id: int | None, name: str) -> bool:
    """True when another row of ``model`` has ``name``, up to case and ё (the tables are small)."""
    others = db.session.scalars(select(model.name).where(model.id != (row_id or 0)))
    return any(fold(other) == fold(name) for other in others)


@dataclass
class MunicipalityData:
    name: str
    kind: str


def save_municipality(actor, municipality: Municipality, data: MunicipalityData) -> Municipality:
    """An administrator renames a municipality or corrects its kind (the list of 42 is fixed).

    :raise TaxonomyError: the name is empty or taken, or the kind is unknown.
    """
    require_role(actor, Role.ADMIN)
    name = clean_text(data.name)
    if not name:
        raise TaxonomyError("Укажите название.", "name")
    if _name_taken(Municipality, municipality.id, name):
        raise TaxonomyError(f"Муниципальное образование «{name}» уже есть в списке.", "name")
    if data.kind not in (*MUNICIPALITY_KINDS, municipality.kind):
        raise TaxonomyError("Выберите вид из списка.", "kind")
    municipality.name = name
    municipality.kind = data.kind
    _commit(f"Муниципальное образование «{name}» уже есть в списке.", "name")
    return municipality


@dataclass
class OrganizationData:
    name: str
    kind: str
    municipality_id: int


def save_organization(actor, organization: Organization | None, data: OrganizationData) -> Organization:
    """An administrator adds an organization (``organization`` is None) or edits one.

    :raise TaxonomyError: the municipality or kind is unknown, or the municipality already has
        an organization of this name (up to case and ё).
    """
    require_role(actor, Role.ADMIN)
    name = clean_text(data.name)
    if not name:
        raise TaxonomyError("Укажите название организации.", "name")
    if data.kind not in OrganizationKind.LABELS:
        raise TaxonomyError("Выберите тип организации из списка.", "kind")
    municipality = db.session.get(Municipality, data.municipality_id) if data.municipality_id else None
    if municipality is None:
        raise TaxonomyError("Выберите муниципальное образование из списка.", "municipality_id")
    duplicate = f"В муниципальном образовании «{municipality.name}» уже есть организация «{name}»."
    folded = fold(name)
    taken = select(Organization.id).where(
        Organization.municipality_id == municipality.id,
        Organization.name_folded == folded,
        Organization.id != (organization.id if organization else 0),
    )
    if db.session.scalar(taken) is not None:
        raise TaxonomyError(duplicate, "name")
    if organization is None:
        organization = Organization()
        db.session.add(organization)
    organization.name = name
    organization.kind = data.kind
    organization.municipality = municipality
    organization.confirmed = True  # saved by an administrator: checked
    _commit(duplicate, "name")
    return organization


@dataclass
class AgeGroupData:
    slug: str
    name: str
    grade_from: int
    grade_to: int
    position: int | None = None


def save_age_group(actor, age_group: AgeGroup | None, data: AgeGroupData) -> AgeGroup:
    """An administrator adds an age group (``age_group`` is None) or edits one.

    :raise TaxonomyError: the slug is malformed or taken, the name is taken, or the grades are
        outside 6-11 or in the wrong order.
    """
    require_role(actor, Role.ADMIN)
    slug = data.slug.strip()
    name = clean_text(data.name)
    row_id = age_group.id if age_group else None
    _check_slug(AgeGroup, row_id, slug)
    if not name:
        raise TaxonomyError("Укажите название.", "name")
    if _name_taken(AgeGroup, row_id, name):
        raise TaxonomyError(f"Возрастная группа «{name}» уже есть.", "name")
    if data.grade_from not in GRADES:
        raise TaxonomyError("Класс — от 6 до 11.", "grade_from")
    if data.grade_to not in GRADES:
        raise TaxonomyError("Класс — от 6 до 11.", "grade_to")
    if data.grade_from > data.grade_to:
        raise TaxonomyError("Последний класс не может быть меньше первого.", "grade_to")
    # Before the new row joins the session: the query would flush it half-filled.
    position = data.position
    if position is None:
        position = age_group.position if age_group is not None else next_position(AgeGroup)
    if age_group is None:
        age_group = AgeGroup()
        db.session.add(age_group)
    age_group.position = position
    age_group.slug = slug
    age_group.name = name
    age_group.grade_from = data.grade_from
    age_group.grade_to = data.grade_to
    _commit(f"Адрес «{slug}» уже занят. Придумайте другой.", "slug")
    return age_group


@dataclass
class SphereData:
    slug: str
    name: str
    description: str = ""
    position: int | None = None


def save_sphere(actor, sphere: Sphere | None, data: SphereData) -> Sphere:
    """An administrator adds a professional sphere (``sphere`` is None) or edits one.

    :raise TaxonomyError: the slug is malformed or taken, or the name is taken (up to case and ё).
    """
    require_role(actor, Role.ADMIN)
    slug = data.slug.strip()
    name = clean_text(data.name)
    row_id = sphere.id if sphere else None
    _check_slug(Sphere, row_id, slug)
    if not name:
        raise TaxonomyError("Укажите название.", "name")
    if _name_taken(Sphere, row_id, name):
        raise TaxonomyError(f"Сфера «{name}» уже есть.", "name")
    # Before the new row joins the session: the query would flush it half-filled.
    position = data.position
    if position is None:
        position = sphere.position if sphere is not None else next_position(Sphere)
    if sphere is None:
        sphere = Sphere()
        db.session.add(sphere)
    sphere.position = position
    sphere.slug = slug
    sphere.name = name
    sphere.description = (data.description or "").strip()
    _commit("Сфера с таким адресом или названием уже есть.", "name")
    return sphere

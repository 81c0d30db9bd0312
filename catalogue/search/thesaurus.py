"""The thesaurus of the field: groups of related words, applied at query time.

Each :class:`SynonymGroup` row holds terms, one per line («ИТ», «айти», «информационные технологии»...). A word
or a phrase of the query found in a group (compared as the index compares words: stemmed, so «айтишники» and
«айти» need not be spelled alike; a phrase as consecutive words) adds the group's other terms to its clause as
alternatives, each analysed like the query and weighted ``SYNONYM_WEIGHT`` of a typed word. Nothing of it is in
the index, so an edit needs no reindex: the groups are read once per process and content generation (an edit
bumps the generation like any public change) through :func:`catalogue.fragments.cached`.

The groups every installation starts with are in ``thesaurus.txt`` beside this module (one group a line, terms
separated by « / »), loaded by the migration that creates the table; administrators edit them in the taxonomy
admin (:mod:`catalogue.taxonomy.views`).
"""

import hashlib
import re
from dataclasses import dataclass, replace
from importlib import resources

from sqlalchemy import String, Text, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.errors import DomainError
from catalogue.extensions import db
from catalogue.pagination import FIRST_PAGE, Pager, paginate
from catalogue.permissions import require_role
from catalogue.roles import Role
from catalogue.search import taxonomy_words
from catalogue.search.analysis import WORD_PATTERN, fold
from catalogue.search.query import Item, ParsedQuery, parse
from catalogue.search.ranking import without_fillers

SYNONYM_WEIGHT = 0.5  # a related word counts half as much as the word typed
MAX_PHRASE_WORDS = 4  # the longest run of query words looked up as one term
MAX_TERMS = 20
MAX_TERM_CHARS = 80
MAX_SHOWN = 8  # related words named on the results page
GROUPS_PER_PAGE = 20
DATA_FILE = "thesaurus.txt"
WORD_PATTERN_RE = re.compile(WORD_PATTERN)


class SynonymGroup(db.Model):
    __tablename__ = "synonym_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[str] = mapped_column(Text)  # one term a line, as the administrator wrote them
    # The folded terms, sorted, hashed: two groups with the same terms are the same group.
    signature: Mapped[str] = mapped_column(String(64), unique=True)
    # The first term folded: the admin list's order.
    sort_key: Mapped[str] = mapped_column(String(MAX_TERM_CHARS), index=True)

    @property
    def term_list(self) -> list[str]:
        return [t for t in self.terms.splitlines() if t]


class ThesaurusError(DomainError):
    """A group that cannot be saved; the message is for the administrator."""


def split_terms(text: str) -> list[str]:
    """The terms of a group as written: one a line, spaces tidied, repeats (up to case and ё) dropped."""
    seen: dict[str, str] = {}
    for line in (text or "").splitlines():
        term = " ".join(line.split())
        if term and fold(term) not in seen:
            seen[fold(term)] = term
    return list(seen.values())


def signature(terms: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(fold(t) for t in terms)).encode()).hexdigest()


def data_file_groups() -> list[list[str]]:
    """The groups of the packaged data file."""
    text = resources.files("catalogue.search").joinpath(DATA_FILE).read_text(encoding="utf-8")
    groups = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            terms = split_terms("\n".join(line.split(" / ")))
            if len(terms) > 1:
                groups.append(terms)
    return groups


def group_row(terms: list[str]) -> dict:
    """The columns of a group of ``terms`` (for the migration's bulk insert too)."""
    return {"terms": "\n".join(terms), "signature": signature(terms), "sort_key": fold(terms[0])[:MAX_TERM_CHARS]}


def data_file_rows() -> list[dict]:
    """The rows of the data file's groups, one per distinct group (the migration inserts them)."""
    rows: dict[str, dict] = {}
    for terms in data_file_groups():
        row = group_row(terms)
        rows.setdefault(row["signature"], row)
    return list(rows.values())


def load_data_file() -> int:
    """Add the data file's groups to an empty thesaurus (a database made without the migrations); commits."""
    if db.session.scalar(select(SynonymGroup.id).limit(1)) is not None:
        return 0
    rows = data_file_rows()
    db.session.execute(insert(SynonymGroup), rows)
    db.session.commit()
    return len(rows)


# -- editing (administrators) ------------------------------------------------------------------------------


def group_page(pager: Pager = FIRST_PAGE):
    """One page of the groups, by their first term."""
    return paginate(select(SynonymGroup), [SynonymGroup.sort_key, SynonymGroup.id], pager, per_page=GROUPS_PER_PAGE)


def _check(terms: list[str], group_id: int | None) -> None:
    if len(terms) < 2:
        raise ThesaurusError("Впишите хотя бы два слова или выражения, каждое на своей строке.", "terms")
    if len(terms) > MAX_TERMS:
        raise ThesaurusError(f"В группе не больше {MAX_TERMS} слов и выражений.", "terms")
    long = next((t for t in terms if len(t) > MAX_TERM_CHARS), None)
    if long is not None:
        raise ThesaurusError(f"Строка «{long[:30]}…» длиннее {MAX_TERM_CHARS} символов.", "terms")
    if not any(WORD_PATTERN_RE.search(t) for t in terms):
        raise ThesaurusError("В строках нет ни одного слова.", "terms")
    same = select(SynonymGroup.id).where(SynonymGroup.signature == signature(terms), SynonymGroup.id != (group_id or 0))
    if db.session.scalar(same) is not None:
        raise ThesaurusError("Такая группа уже есть: те же слова и выражения.", "terms")


def save_group(actor, group: SynonymGroup | None, text: str) -> SynonymGroup:
    """An administrator adds a group (``group`` is None) or edits one; ``text`` has a term a line.

    :raise ThesaurusError: fewer than two terms, too many or too long, or the same terms as another group.
    """
    require_role(actor, Role.ADMIN)
    terms = split_terms(text)
    _check(terms, group.id if group else None)
    if group is None:
        group = SynonymGroup()
        db.session.add(group)
    for key, value in group_row(terms).items():
        setattr(group, key, value)
    try:
        db.session.commit()
    except IntegrityError:  # the same group saved at the same moment by someone else
        db.session.rollback()
        raise ThesaurusError("Такая группа уже есть: те же слова и выражения.", "terms") from None
    return group


def delete_group(actor, group: SynonymGroup) -> None:
    require_role(actor, Role.ADMIN)
    db.session.delete(group)
    db.session.commit()


# -- reading at query time -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str  # as written in the group
    words: tuple[str, ...]  # folded words, as a query item holds them
    stems: tuple[str, ...]  # as the index knows them


class Thesaurus:
    """The groups in a form for lookups: stems of a term -> the groups that have it."""

    def __init__(self, groups: list[list[str]], analyze):
        self.groups: list[list[Term]] = []
        self.by_stems: dict[tuple[str, ...], list[int]] = {}
        for terms in groups:
            group = []
            for text in terms:
                stems = tuple(analyze(text))
                if stems:
                    group.append(Term(text, tuple(fold(w) for w in WORD_PATTERN_RE.findall(text)), stems))
            index = len(self.groups)
            self.groups.append(group)
            for term in group:
                found = self.by_stems.setdefault(term.stems, [])
                if index not in found:
                    found.append(index)

    def related(self, stems: tuple[str, ...]) -> list[Term]:
        """The terms of every group that has ``stems``, other than ``stems`` themselves, in the groups' order."""
        seen = {stems}
        terms = []
        for index in self.by_stems.get(stems, ()):
            for term in self.groups[index]:
                if term.stems not in seen:
                    seen.add(term.stems)
                    terms.append(term)
        return terms


def load(analyze) -> Thesaurus:
    rows = db.session.scalars(select(SynonymGroup.terms).order_by(SynonymGroup.id))
    return Thesaurus([split_terms(text) for text in rows], analyze)


def current(analyze) -> Thesaurus:
    """The thesaurus of the current content generation, read once per process and generation."""
    from catalogue.fragments import cached

    return cached("search-thesaurus", make=lambda: load(analyze))


@dataclass
class Expansion:
    parsed: ParsedQuery
    used: list[str]  # the related words added, as written in their groups


def expand(parsed: ParsedQuery, thesaurus: Thesaurus, analyze) -> Expansion:
    """``parsed`` with each word or phrase found in the thesaurus joined by its related terms (lower weight).

    Consecutive one-word clauses that together are a term («железная дорога», «информационные технологии»)
    become one phrase clause; the longest run wins.
    """
    used: list[str] = []
    clauses: list[list[Item]] = []
    old = parsed.clauses
    i = 0
    while i < len(old):
        clause = old[i]
        matched = False
        if len(clause) == 1 and len(clause[0].words) == 1:
            for length in range(min(MAX_PHRASE_WORDS, len(old) - i), 1, -1):
                run = old[i : i + length]
                if not all(len(c) == 1 and len(c[0].words) == 1 for c in run):
                    continue
                words = [c[0].words[0] for c in run]
                related = thesaurus.related(tuple(analyze(" ".join(words))))
                if related:
                    clauses.append([Item(words), *_items(related, used)])
                    i += length
                    matched = True
                    break
        if not matched:
            new_clause = list(clause)
            for item in clause:
                new_clause.extend(_items(thesaurus.related(tuple(analyze(item.text))), used))
            clauses.append(new_clause)
            i += 1
    return Expansion(replace(parsed, clauses=clauses), used)


def _items(terms: list[Term], used: list[str]) -> list[Item]:
    items = []
    for term in terms:
        items.append(Item(list(term.words), weight=SYNONYM_WEIGHT))
        if term.text not in used:
            used.append(term.text)
    return items


def parse_expanded(text: str, engine, prefix: bool = False) -> Expansion:
    """``text`` parsed (:func:`catalogue.search.query.parse`, with ``prefix`` for a word being typed), without filler
    words, expanded with the thesaurus and the taxonomy words."""
    parsed = without_fillers(parse(text, prefix))
    if not parsed.clauses:
        return Expansion(parsed, [])
    expansion = expand(parsed, current(engine.analyze), engine.analyze)
    words = taxonomy_words.current(engine.analyze)
    return replace(expansion, parsed=taxonomy_words.expand(expansion.parsed, words, engine.analyze))

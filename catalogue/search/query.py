"""A lenient reading of what people type into the search box; it never fails.

Words must all be found (in any form); ``OR`` (or ``ИЛИ``) between words accepts either; ``"в кавычках"`` is
a phrase; ``-слово`` or ``NOT слово`` excludes. Everything else — stray quotes, ``*``, ``:``, brackets, control
characters, lone surrogates, a page of text — is read as plain words or dropped, so any input gives results or
an empty list, never an error. The result is independent of the engine; a backend turns it into its own query.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from catalogue.search.analysis import WORD_PATTERN, fold

MAX_QUERY_CHARS = 300
MAX_ITEMS = 12
OR_WORDS = {"OR", "ИЛИ"}
AND_WORDS = {"AND"}
NOT_WORDS = {"NOT"}

_WORD = re.compile(WORD_PATTERN)
# A phrase in quotes (a missing closing quote ends it at the end), or a run of anything but spaces and quotes.
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+?)(?="|\s|$)')
_QUOTES = str.maketrans({c: '"' for c in "«»„“”‟″"})
# Signs that other engines read as syntax (``field:``, ``*``, brackets...) separate words here.
_SEPARATORS = re.compile(r'[^\w\s"-]')


@dataclass
class Item:
    """One word or phrase as typed: its words (folded, unstemmed). Several words must stand together."""

    words: list[str]
    weight: float = 1.0  # below 1: added by the thesaurus, not typed
    facet: tuple[str, str] | None = None  # (facet key, value): the documents tagged with it (taxonomy words)

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class ParsedQuery:
    """Clauses that must all match, each a choice of items (usually one); items that must not match."""

    text: str = ""
    clauses: list[list[Item]] = field(default_factory=list)
    excluded: list[Item] = field(default_factory=list)
    prefix: bool = False  # the last word is being typed: it also stands for the words it begins

    @property
    def is_empty(self) -> bool:
        return not self.clauses and not self.excluded

    def words(self) -> list[str]:
        """The wanted words, in order, for highlighting and spelling suggestions."""
        return [w for clause in self.clauses for item in clause for w in item.words]


def clean(text: str) -> str:
    """``text`` as Unicode text a person could have typed: control characters, surrogates and the like go."""
    text = unicodedata.normalize("NFC", text[: MAX_QUERY_CHARS * 4])
    kept = [" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text]  # C: control, format, surrogate...
    return " ".join("".join(kept).split())[:MAX_QUERY_CHARS]


_LATIN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:ZXCVBNM<>~"
_RUSSIAN_KEYS = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЯЧСМИТЬБЮЁ"
_TO_RUSSIAN = str.maketrans(_LATIN_KEYS, _RUSSIAN_KEYS)
_TO_LATIN = str.maketrans(_RUSSIAN_KEYS, _LATIN_KEYS)
_TYPED_ON_QWERTY = re.compile(rf"-?(?=[^a-zA-Z]*[a-zA-Z])[{re.escape(_LATIN_KEYS)}]+")
_TYPED_ON_JCUKEN = re.compile(rf"-?[{_RUSSIAN_KEYS}]+")


def other_layouts(text: str) -> list[str]:
    """``text`` as meant when typed in the wrong keyboard layout, ЙЦУКЕН↔QWERTY, most likely first.

    Only words made wholly of one layout's keys are converted: Latin letters with the punctuation keys that stand
    for Russian letters (``dtnthbyfh`` → ``ветеринар``, ``ghjaghj,f`` → ``профпроба``), or Russian letters
    (``фквгштщ`` → ``arduino``). ``OR``, ``AND`` and ``NOT`` stay as they are.
    """
    versions = []
    for pattern, table in ((_TYPED_ON_QWERTY, _TO_RUSSIAN), (_TYPED_ON_JCUKEN, _TO_LATIN)):
        words = [
            word.translate(table) if pattern.fullmatch(word) and word not in OR_WORDS | AND_WORDS | NOT_WORDS else word
            for word in text.split(" ")
        ]
        version = " ".join(words)
        if version != text and version not in versions:
            versions.append(version)
    return versions


def _words(chunk: str) -> list[str]:
    return [fold(w) for w in _WORD.findall(chunk)]


def parse(text: str | None, prefix: bool = False) -> ParsedQuery:
    """Read ``text`` leniently (see the module docstring); with ``prefix``, a last plain word of three letters or
    more (not a phrase, not excluded) also stands for the words it begins (see ``ParsedQuery.prefix``)."""
    cleaned = clean(text or "").translate(_QUOTES)
    query = ParsedQuery(text=cleaned)
    join_next = False  # the previous token was OR: the next item joins the last clause
    negate_next = False
    items = 0
    last_plain = None  # the item of the last chunk, when that chunk was one plain word
    for match in _CHUNK.finditer(_SEPARATORS.sub(" ", cleaned)):
        minus, phrase, plain = match.groups()
        if plain is not None and plain in OR_WORDS | AND_WORDS | NOT_WORDS:
            join_next = plain in OR_WORDS and bool(query.clauses)
            negate_next = plain in NOT_WORDS
            continue
        negated = negate_next or bool(minus)
        if plain is not None and plain.startswith("-") and len(plain) > 1:
            negated, plain = True, plain[1:]
        words = _words(phrase if phrase is not None else plain)
        last_plain = None
        if not words or items >= MAX_ITEMS:
            join_next = negate_next = False
            continue
        items += 1
        item = Item(words)
        if negated:
            query.excluded.append(item)
        elif join_next:
            query.clauses[-1].append(item)
        else:
            query.clauses.append([item])
        if plain is not None and not negated and len(words) == 1:
            last_plain = item
        join_next = negate_next = False
    query.prefix = (
        prefix and last_plain is not None and last_plain is query.clauses[-1][-1] and len(last_plain.words[0]) >= 3
    )
    return query

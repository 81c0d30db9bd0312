"""A result's snippet is a sentence of its text: the one with most of the query's words, the earliest of equals.

The text is the stored plain text of the document (``search_document``), never Markdown rendered at read time. Its
lines are the item's parts (summary, goal, stages..., then the names of its spheres, organization, municipality);
a line is split into sentences after «.», «!», «?», «…». A sentence is prose when it ends with such a sign or is
long; the other lines are labels. When the query's words are only in labels (a sphere's or a municipality's name),
the snippet is the text's first sentence and the matched names are shown as tags, never as a run of labels.
"""

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import select

from catalogue.extensions import db
from catalogue.search.analysis import WORD_PATTERN
from catalogue.search.highlight import SNIPPET_CHARS, highlighted

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_PROSE_END = re.compile(r"[.!?…][»\")]*$")
_WORD = re.compile(WORD_PATTERN)
PROSE_WORDS = 8  # a line this long is prose even without a full stop
MAX_TAGS = 3


@dataclass
class Snippet:
    text: Markup
    tags: list[str] = field(default_factory=list)


def _only_names(line: str, names: list[str]) -> bool:
    for name in names:
        line = line.replace(name, " ")
    return not _WORD.search(line)


def sentences(text: str, names: list[str] = ()) -> tuple[list[str], list[str]]:
    """(prose sentences, label lines) of ``text``, in order; a line made of ``names`` only is a label."""
    prose, labels = [], []
    for line in text.splitlines():
        if _only_names(line, names):
            labels.append(line.strip())
            continue
        for sentence in _SENTENCE_END.split(line.strip()):
            sentence = sentence.strip()
            if not sentence:
                continue
            if _PROSE_END.search(sentence) or len(sentence.split()) >= PROSE_WORDS:
                prose.append(sentence)
            else:
                labels.append(sentence)
    return prose, labels


def tag_names() -> list[str]:
    """The names a document's labels are made of: spheres, age groups, municipalities (a few dozen rows)."""
    from catalogue.taxonomy.models import AgeGroup, Municipality, Sphere

    names: list[str] = []
    for column in (Sphere.name, AgeGroup.name, Municipality.name):
        names.extend(db.session.scalars(select(column)))
    return sorted(names, key=len, reverse=True)


def current_tag_names() -> list[str]:
    from catalogue.fragments import cached

    return cached("search-tag-names", make=tag_names)


def best(text: str, terms: list[str], analyze, names: list[str], limit: int = SNIPPET_CHARS) -> Snippet:
    """The snippet of ``text`` for the analysed query ``terms``."""
    prose, labels = sentences(text, names)
    wanted = set(terms)
    chosen, most = None, 0
    for sentence in prose:
        found = len(wanted.intersection(analyze(sentence)))
        if found > most:
            chosen, most = sentence, found
    if chosen is not None:
        return Snippet(highlighted(chosen, terms, whole=len(chosen) <= limit, limit=limit))
    tags = []
    if wanted:
        for label in labels:
            if wanted.intersection(analyze(label)):
                tags.extend(name for name in names if name in label and wanted.intersection(analyze(name)))
    first = prose[0] if prose else ""
    beginning = escape(first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + "…")
    return Snippet(beginning, list(dict.fromkeys(tags))[:MAX_TAGS])

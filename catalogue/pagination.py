"""One pagination for every list: every page by number, keyset links for cursors.

A page is asked for by number (``?page=1427``; beyond the last, the last). The first ``NUMBERED_PAGES`` are read with
an OFFSET of at most a few hundred rows. A deeper one first **seeks its start**: the sort key of the row just before
it (or, nearer the end, just after it, read in the reverse order) is read alone — only the order's columns, from the
index the list is sorted by, an index-only scan — and then the page's rows are read from that key on, as a keyset
page is. The seek walks at most half the list's index entries, no more than the page's count does already, so page
1,427 costs about what page 1 costs, and the last page is one reversed read. The pager shows the pages around the
current one, the first and the last.

``?after=<key>,<id>`` and ``?before=<key>,<id>`` (the sort key of a row and its id) read the rows after (before)
that row: cursors for the JSON API and links people keep; such a page has no number.

A page also carries ``total`` (one count), and the template macro ``pagination(page)`` of
``macros/forms.html`` draws the links for any endpoint, keeping its other arguments (filters, the season's year).
"""

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Row, Select, and_, func, literal, or_, select, union_all
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from catalogue.extensions import db
from catalogue.forms import MAX_ID, bounded_int

PER_PAGE = 20
NUMBERED_PAGES = 10  # pages read with an OFFSET; deeper ones seek their start in the index
AROUND = 2  # the pager shows this many pages on each side of the current one
MAX_KEY_CHARS = 400  # a longer ``after``/``before`` is not one of ours: the first page is shown
# The query-string arguments of the pager; the macro drops them from the links it builds.
PAGE_ARGS = ("page", "after", "before")


class _Key:
    """One column of a list's order: the expression, its direction, and how to read it from a row."""

    def __init__(self, clause) -> None:
        descending = isinstance(clause, UnaryExpression) and clause.modifier is operators.desc_op
        self.column = clause.element if isinstance(clause, UnaryExpression) else clause
        self.descending = descending
        self.name = self.column.key
        try:
            self.python_type = self.column.type.python_type
        except NotImplementedError:  # pragma: no cover - every sort column here has one
            self.python_type = str

    def value_of(self, row) -> Any:
        """The key's value in ``row``: an object's attribute, or a row's column (else its first entity's)."""
        if isinstance(row, Row) and self.name not in row._fields:
            return getattr(row[0], self.name)
        return getattr(row, self.name)

    def dump(self, value) -> str:
        return value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)

    def load(self, text: str) -> Any:
        if self.python_type is dt.datetime:
            return dt.datetime.fromisoformat(text)
        if self.python_type is dt.date:
            return dt.date.fromisoformat(text)
        if self.python_type is int:
            number = int(text)
            if not 0 <= number <= MAX_ID:  # what a database integer holds, as the keys are
                raise ValueError(text)
            return number
        if self.python_type is float:
            return float(text)
        return text


def _split(token: str, keys: list[_Key]) -> list[Any] | None:
    """``token``'s values, one per key; None for anything malformed. At most one key is text (it may hold commas)."""
    if not token or len(token) > MAX_KEY_CHARS:
        return None
    text_at = next((i for i, k in enumerate(keys) if k.python_type is str), None)
    if text_at is None:
        parts = token.split(",")
    else:
        head = token.split(",", text_at)
        if len(head) <= text_at:
            return None
        tail = head[-1].rsplit(",", len(keys) - text_at - 1)
        parts = head[:-1] + tail
    if len(parts) != len(keys):
        return None
    try:
        return [key.load(part) for key, part in zip(keys, parts, strict=True)]
    except ValueError:
        return None


def _after(keys: list[_Key], values: list[Any], backwards: bool):
    """Rows strictly after ``values`` in the order of ``keys`` (before them when ``backwards``).

    The leading key also gets a plain bound (``published_at <= v``) so the database starts its index scan there.
    """

    def beyond(key: _Key, value, inclusive: bool = False):
        later = key.descending == backwards  # ascending and forwards: larger values come later
        if inclusive:
            return key.column >= value if later else key.column <= value
        return key.column > value if later else key.column < value

    alternatives = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        equal = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        alternatives.append(and_(*equal, beyond(key, value)))
    return and_(beyond(keys[0], values[0], inclusive=True), or_(*alternatives))


class Page:
    """One page of a list: ``items``, where it is, and the arguments of the links to its neighbours."""

    def __init__(
        self,
        items: list,
        rows: Sequence,
        keys: list[_Key],
        per_page: int,
        total: int,
        page: int | None,
        has_prev: bool,
        has_next: bool,
        prefix: str = "",
    ) -> None:
        self.items = items
        self.prefix = prefix
        self._rows = rows
        self._keys = keys
        self.per_page = per_page
        self.total = total
        self.page = page  # None deep in the list, reached by a key
        self.has_prev = has_prev
        self.has_next = has_next

    def __iter__(self):
        return iter(self.items)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    def _token(self, row) -> str:
        return ",".join(key.dump(key.value_of(row)) for key in self._keys)

    @property
    def arg_names(self) -> list[str]:
        """The query-string arguments of this list's pager (the macro drops them from the links it builds)."""
        return [self.prefix + name for name in PAGE_ARGS]

    def page_args(self, number: int) -> dict[str, Any]:
        return {f"{self.prefix}page": number}

    @property
    def prev_args(self) -> dict[str, Any]:
        if self.page is not None and self.page > 1:
            return self.page_args(self.page - 1)
        return {f"{self.prefix}before": self._token(self._rows[0])} if self._rows else {}

    @property
    def next_args(self) -> dict[str, Any]:
        if self.page is not None:
            return self.page_args(self.page + 1)
        return {f"{self.prefix}after": self._token(self._rows[-1])} if self._rows and self._keys else {}

    @property
    def after_key(self) -> str | None:
        """The key of the page's last row: a cursor to the rows after it (the JSON API's links), None if empty."""
        return self._token(self._rows[-1]) if self._rows and self._keys else None

    @property
    def before_key(self) -> str | None:
        """The key of the page's first row: a cursor to the rows before it, None if empty."""
        return self._token(self._rows[0]) if self._rows and self._keys else None

    def iter_pages(self) -> list[int | None]:
        """The page numbers the pager shows — the first, those around the current one, the last — with None
        where numbers are left out."""
        if self.page is None:
            return []
        shown = sorted(
            n for n in {1, self.pages, *range(self.page - AROUND, self.page + AROUND + 1)} if 1 <= n <= self.pages
        )
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - numbers[-1] == 2:
                numbers.append(n - 1)  # one page left out is shown rather than an ellipsis
            elif numbers and n - numbers[-1] > 2:
                numbers.append(None)
            numbers.append(n)
        return numbers


@dataclass(frozen=True)
class Pager:
    """Which page is asked for: a number (beyond the last: the last), or the key of the row it starts after (ends
    before)."""

    page: int = 1
    after: str = ""
    before: str = ""
    prefix: str = ""  # of the arguments' names, for a second list on the same page: ``reports_page``

    @classmethod
    def from_request(cls, prefix: str = "") -> "Pager":
        args = request.args
        return cls(
            page=bounded_int(args.get(f"{prefix}page")) or 1,
            after=args.get(f"{prefix}after", "")[: MAX_KEY_CHARS + 1],
            before=args.get(f"{prefix}before", "")[: MAX_KEY_CHARS + 1],
            prefix=prefix,
        )


FIRST_PAGE = Pager()


def empty_page(per_page: int = PER_PAGE) -> Page:
    """A list with nothing in it (its filters exclude everything), without asking the database."""
    return Page([], [], [], per_page, 0, 1, has_prev=False, has_next=False)


def paginate(
    stmt: Select,
    order: Sequence,
    pager: Pager = FIRST_PAGE,
    *,
    per_page: int = PER_PAGE,
    load: Callable[[Sequence], list] | None = None,
    count: Select | None = None,
) -> Page:
    """One page of ``stmt`` (without ORDER BY) sorted by ``order``, whose last clause must make it unique (the id).

    ``stmt`` selects one entity (the items) or rows with the order's columns by name, which ``load`` turns into
    the items (one query for the page). ``count`` counts the whole list when ``stmt`` cannot be counted as is.
    Two or three queries, whatever the page.
    """
    keys = [_Key(clause) for clause in order]
    scalars = load is None
    counting = count if count is not None else select(func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(counting) or 0

    def fetch(query):
        result = db.session.execute(query)
        return list(result.scalars() if scalars else result.all())

    backwards = False
    values = _split(pager.after, keys) if pager.after else None
    if values is None and pager.before:
        values = _split(pager.before, keys)
        backwards = values is not None
    if values is not None:
        reverse = [(k.column.asc() if k.descending else k.column.desc()) for k in keys]
        query = stmt.where(_after(keys, values, backwards)).order_by(*(reverse if backwards else order))
        rows = fetch(query.limit(per_page + 1))
        more = len(rows) > per_page
        rows = rows[:per_page]
        if backwards:
            rows.reverse()
            has_prev, has_next = more, True
        else:
            has_prev, has_next = True, more
        current = None
    else:
        pages = max(1, math.ceil(total / per_page))
        current = max(1, min(pager.page, pages))
        skip = (current - 1) * per_page
        if skip <= NUMBERED_PAGES * per_page:
            rows = fetch(stmt.order_by(*order).limit(per_page + 1).offset(skip))
            has_next = len(rows) > per_page
            rows = rows[:per_page]
        else:
            rows, has_next = _seek_page(stmt, order, keys, skip, total, per_page, fetch)
        has_prev = current > 1
    items = load(rows) if load is not None else rows
    return Page(items, rows, keys, per_page, total, current, has_prev, has_next, pager.prefix)


def _key_at(stmt: Select, keys: list[_Key], position: int, total: int) -> list[Any] | None:
    """The sort key of the row at ``position`` (from 0) of the ``total`` rows of ``stmt`` in the order of ``keys``,
    read alone — only the order's columns, an index-only scan — from whichever end of the list is nearer."""
    key_columns = stmt.with_only_columns(*(k.column for k in keys), maintain_column_froms=True)
    if position <= total - 1 - position:
        query = key_columns.order_by(*(k.column.desc() if k.descending else k.column.asc() for k in keys))
    else:
        query = key_columns.order_by(*(k.column.asc() if k.descending else k.column.desc() for k in keys))
        position = total - 1 - position
    values = db.session.execute(query.offset(position).limit(1)).first()
    return None if values is None else list(values)


def _seek_page(stmt: Select, order: Sequence, keys: list[_Key], skip: int, total: int, per_page: int, fetch):
    """The rows of a deep page starting ``skip`` rows into the list, and whether more follow: the key of the row
    just before the page is sought (:func:`_key_at`), then the page is read from that key on, as a keyset page is."""
    values = _key_at(stmt, keys, skip - 1, total)
    if values is None:  # the list shrank since it was counted: its first page
        rows = fetch(stmt.order_by(*order).limit(per_page + 1))
    else:
        rows = fetch(stmt.where(_after(keys, values, False)).order_by(*order).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


def paginate_groups(
    stmt: Select,
    groups_by: Sequence,
    groups: Sequence[tuple[tuple, int]],
    order: Sequence,
    pager: Pager = FIRST_PAGE,
    *,
    per_page: int = PER_PAGE,
    load: Callable[[Sequence], list],
) -> Page:
    """One page of a list shown group by group, read through an index on (``groups_by``…, ``order``…).

    ``groups`` are the values of the ``groups_by`` columns with how many rows each holds, in the list's order
    (the caller orders them from their small tables, and counts them with one grouped query); within a group rows
    follow ``order`` (its last clause unique). ``stmt`` selects narrow rows with those columns by name, which
    ``load`` turns into the items. The page reads only the groups it needs, each from its place in the index, in
    one UNION ALL: page 1,792 costs what page 1 costs. The key of a keyset link carries the group's values too.
    """
    group_keys = [_Key(column) for column in groups_by]
    keys = [_Key(clause) for clause in order]
    every_key = group_keys + keys
    total = sum(count for _values, count in groups)
    reverse = [(k.column.asc() if k.descending else k.column.desc()) for k in keys]

    def branch(i: int, limit: int, offset: int = 0, where=None, backwards: bool = False) -> Select:
        values, _count = groups[i]
        query = stmt.where(*[k.column == v for k, v in zip(group_keys, values, strict=True)])
        if where is not None:
            query = query.where(where)
        query = query.order_by(*(reverse if backwards else order)).limit(limit)
        inner = (query.offset(offset) if offset else query).subquery()
        return select(*inner.c, literal(i).label("group_ordinal"))

    def fetch(branches: list[Select], limit: int, backwards: bool = False) -> list:
        if not branches:
            return []
        rows = union_all(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
        ordinal = rows.c.group_ordinal.desc() if backwards else rows.c.group_ordinal
        within = [rows.c[k.name].desc() if k.descending != backwards else rows.c[k.name].asc() for k in keys]
        return list(db.session.execute(select(rows).order_by(ordinal, *within).limit(limit)).all())

    values = _split(pager.after, every_key) if pager.after else None
    backwards = False
    if values is None and pager.before:
        values = _split(pager.before, every_key)
        backwards = values is not None
    start = None
    if values is not None:
        start = next((i for i, (g, _c) in enumerate(groups) if list(g) == values[: len(group_keys)]), None)
    if start is not None:
        # The key's group from the key on, then the groups after (before) it until they surely fill the page
        within = values[len(group_keys) :]
        branches = [branch(start, per_page + 1, where=_after(keys, within, backwards), backwards=backwards)]
        remaining = per_page + 1
        following = range(start - 1, -1, -1) if backwards else range(start + 1, len(groups))
        for i in following:
            if remaining <= 0:
                break
            if count := groups[i][1]:
                branches.append(branch(i, min(count, remaining), backwards=backwards))
                remaining -= count
        rows = fetch(branches, per_page + 1, backwards)
        more = len(rows) > per_page
        rows = rows[:per_page]
        if backwards:
            rows.reverse()
        has_prev, has_next = (more, True) if backwards else (True, more)
        current = None
    else:
        # A numbered page: the groups' counts say where it starts; within its first group an OFFSET of at most a
        # few hundred rows, or deeper the key of the row before it, sought in the group's index
        current = max(1, min(pager.page, max(1, math.ceil(total / per_page))))
        skip, need, branches = (current - 1) * per_page, per_page, []
        for i, (group_values, count) in enumerate(groups):
            if need <= 0:
                break
            if skip >= count:
                skip -= count
                continue
            take = min(count - skip, need)
            group = stmt.where(*[k.column == v for k, v in zip(group_keys, group_values, strict=True)])
            start_key = _key_at(group, keys, skip - 1, count) if skip > NUMBERED_PAGES * per_page else None
            if start_key is not None:
                branches.append(branch(i, take, where=_after(keys, start_key, False)))
            else:
                branches.append(branch(i, take, offset=skip))
            need, skip = need - take, 0
        rows = fetch(branches, per_page)
        has_prev, has_next = current > 1, current * per_page < total
    return Page(load(rows), rows, every_key, per_page, total, current, has_prev, has_next, pager.prefix)

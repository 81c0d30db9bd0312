"""What the public may see of a table of counts: no count from 1 to 4, and nothing that gives one away.

A count of people or items from 1 to ``SMALL - 1`` is shown as «менее 5» (primary suppression). A table's total is
public, so one hidden cell alone could be worked out as the total minus the cells shown: when exactly one cell of a
table is hidden, the smallest other non-zero cell is hidden too, as «скрыто» (secondary suppression); when there is
no such cell, the total is hidden instead. A year's table of municipalities by age (:func:`protect_grid`) gets
the same rule in every row and every column, so that neither a total nor all ages minus the age groups tells a
hidden number. Cells the viewer may know (a coordinator's own municipality, everything
for administrators and moderators) are never hidden and never chosen as the second cell.
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

SMALL = 5
SMALL_LABEL = "менее 5"
SECONDARY_LABEL = "скрыто"


@dataclass(frozen=True)
class Cell:
    """One number as shown: ``value`` None when it is hidden, ``label`` what is written instead."""

    value: int | None
    label: str = ""

    @property
    def hidden(self) -> bool:
        return self.value is None

    @property
    def text(self) -> str:
        return self.label if self.value is None else f"{self.value:,}".replace(",", "\u00a0")

    @property
    def cell(self) -> int | str:
        """For a spreadsheet: the number, or the words that replace it."""
        return self.label if self.value is None else self.value


SHOWN_ZERO = Cell(0)
SMALL_CELL = Cell(None, SMALL_LABEL)
SECONDARY_CELL = Cell(None, SECONDARY_LABEL)


def is_small(value: int) -> bool:
    return 0 < value < SMALL


@dataclass(frozen=True)
class Table:
    cells: dict[Hashable, Cell]
    total: Cell


def protect(
    values: Mapping[Hashable, int],
    known: Iterable[Hashable] | None = (),
    forced: Iterable[Hashable] = (),
    hide_total: bool = False,
) -> Table:
    """The cells of ``values`` and their total as the viewer may see them.

    ``known``: keys the viewer may see as they are (None: all of them). ``forced``: keys hidden already for a reason
    of another table, counted like small ones. ``hide_total``: the total is hidden elsewhere (the same number in
    another table), so it is hidden here too, and two cells with it, so that the cells do not add up to it.
    """
    total = sum(values.values())
    if known is None:
        return Table({k: Cell(v) for k, v in values.items()}, Cell(total))
    known = set(known)
    forced = set(forced) - known
    hidden = {k: SMALL_CELL for k, v in values.items() if k not in known and is_small(v)}
    hidden.update({k: SECONDARY_CELL for k in forced if k not in hidden})
    total_cell = Cell(total)
    if len(hidden) == 1:
        partners = sorted((v, str(k), k) for k, v in values.items() if v > 0 and k not in known and k not in hidden)
        if partners:
            hidden[partners[0][2]] = SECONDARY_CELL
        else:
            total_cell = SECONDARY_CELL
    if is_small(total) and any(v > 0 and k not in known for k, v in values.items()):
        total_cell = SMALL_CELL
    if hide_total and total:
        total_cell = SMALL_CELL if is_small(total) else SECONDARY_CELL
        for _, _, k in sorted(
            (v, str(k), k) for k, v in values.items() if v > 0 and k not in known and k not in hidden
        ):
            if len(hidden) >= 2:
                break
            hidden[k] = SECONDARY_CELL
    cells = {k: hidden.get(k) or Cell(v) for k, v in values.items()}
    return Table(cells, total_cell)


def protect_grid(values: Mapping[tuple[Hashable, Hashable], int], known_rows: Iterable[Hashable] | None) -> dict:
    """The cells of a table with its margins inside — rows the municipalities and the region (their total), columns
    all ages and each age group — as the viewer may see them.

    A small cell is hidden; then, until nothing changes, every row and every column with exactly one hidden cell gets
    a second one (its smallest other non-zero cell): a total minus the cells shown, or all ages minus the age groups
    shown, never tells a hidden number. Cells of ``known_rows`` are shown as they are (None: everything is).
    """
    if known_rows is None:
        return {k: Cell(v) for k, v in values.items()}
    known_rows = set(known_rows)
    hidden = {k: SMALL_CELL for k, v in values.items() if k[0] not in known_rows and is_small(v)}
    rows = list(dict.fromkeys(r for r, _ in values))
    columns = list(dict.fromkeys(c for _, c in values))
    lines = [[(r, c) for c in columns] for r in rows] + [[(r, c) for r in rows] for c in columns]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(k in hidden for k in line) != 1:
                continue
            partners = sorted(
                (values[k], str(k), k) for k in line if k not in hidden and values[k] > 0 and k[0] not in known_rows
            )
            if partners:
                hidden[partners[0][2]] = SECONDARY_CELL
                changed = True
    return {k: hidden.get(k) or Cell(v) for k, v in values.items()}

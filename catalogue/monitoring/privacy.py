"""What the public may see of a table of counts: no count from 1 to 4, and nothing that gives one away.

A count of people or items from 1 to ``SMALL - 1`` is shown as «менее 5» (primary suppression). A table's total is
public, so one hidden cell alone could be worked out as the total minus the cells shown: when exactly one cell of a
table is hidden, the smallest other non-zero cell is hidden too, as «скрыто» (secondary suppression); when there is
no such cell, the total is hidden instead. A series of such totals (the years) hides the sum whenever it hides a
year (:func:`protect_series`). Cells the viewer may know (a coordinator's own municipality, everything
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
) -> Table:
    """The cells of ``values`` and their total as the viewer may see them.

    ``known``: keys the viewer may see as they are (None: all of them). ``forced``: keys hidden already for a reason
    of another table (a year whose municipalities' total is hidden), counted like small ones.
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
    cells = {k: hidden.get(k) or Cell(v) for k, v in values.items()}
    return Table(cells, total_cell)


def protect_series(values: Mapping[Hashable, int], forced: Iterable[Hashable] = (), everything: bool = False) -> Table:
    """A series whose cells are the totals of other tables (a year: the total of its municipalities), and its sum.

    A cell is hidden when it is small or ``forced`` (its table's total is hidden), never as a second cell: the
    same number stands as that table's total, and hiding it here alone would not hide it there. So the sum is
    hidden instead whenever any cell is.
    """
    if everything:
        return protect(values, None)
    forced = set(forced)
    cells = {k: SMALL_CELL if is_small(v) else SECONDARY_CELL if k in forced else Cell(v) for k, v in values.items()}
    total = sum(values.values())
    if is_small(total):
        total_cell = SMALL_CELL
    elif any(cell.hidden for cell in cells.values()):
        total_cell = SECONDARY_CELL
    else:
        total_cell = Cell(total)
    return Table(cells, total_cell)

"""Charts as inline SVG drawn on the server: no JavaScript, they print, and each has its table under it.

The functions here lay the charts out (positions, lengths, colours); ``templates/monitoring/_charts.html`` writes
the SVG, escaping every label. Colours pass WCAG AA against their text (4.5:1); the version for the visually
impaired draws everything black on white (``static/css/monitoring.css``), and every value is written as text.
"""

from dataclasses import dataclass

from catalogue.monitoring.privacy import Cell

# The 42 municipalities as tiles on a grid, roughly where they lie: the north (Катангский) at the top, the
# Trans-Siberian towns from Тайшет in the west to Иркутск and Слюдянка in the south-east, Baikal's side on the
# right. (name, column, row, short label)
TILES = [
    ("Катангский район", 5, 0, "Катанга"),
    ("Усть-Илимский район", 3, 1, "У-Илим. р-н"),
    ("город Усть-Илимск", 4, 1, "Усть-Илимск"),
    ("Киренский район", 5, 1, "Киренск"),
    ("Мамско-Чуйский район", 6, 1, "Мама"),
    ("Бодайбинский район", 7, 1, "Бодайбо"),
    ("Братский район", 2, 2, "Братск. р-н"),
    ("Нижнеилимский район", 3, 2, "Н-Илимск"),
    ("Усть-Кутский район", 4, 2, "Усть-Кут"),
    ("Казачинско-Ленский район", 5, 2, "Каз.-Ленск"),
    ("Чунский район", 1, 3, "Чуна"),
    ("город Братск", 2, 3, "Братск"),
    ("Усть-Удинский район", 3, 3, "Усть-Уда"),
    ("Жигаловский район", 4, 3, "Жигалово"),
    ("Качугский район", 5, 3, "Качуг"),
    ("Тайшетский район", 0, 4, "Тайшет"),
    ("Тулунский район", 1, 4, "Тулун. р-н"),
    ("Куйтунский район", 2, 4, "Куйтун"),
    ("Балаганский район", 3, 4, "Балаганск"),
    ("Осинский район", 4, 4, "Оса"),
    ("Баяндаевский район", 5, 4, "Баяндай"),
    ("Ольхонский район", 6, 4, "Ольхон"),
    ("Нижнеудинский район", 0, 5, "Н-Удинск"),
    ("город Тулун", 1, 5, "Тулун"),
    ("Зиминский район", 2, 5, "Зимин. р-н"),
    ("Нукутский район", 3, 5, "Нукуты"),
    ("Боханский район", 4, 5, "Бохан"),
    ("Эхирит-Булагатский район", 5, 5, "Усть-Орда"),
    ("город Зима", 1, 6, "Зима"),
    ("город Саянск", 2, 6, "Саянск"),
    ("Заларинский район", 3, 6, "Залари"),
    ("Аларский район", 4, 6, "Кутулик"),
    ("Усольский район", 5, 6, "Усол. р-н"),
    ("город Свирск", 2, 7, "Свирск"),
    ("город Черемхово", 3, 7, "Черемхово"),
    ("Черемховский район", 4, 7, "Черем. р-н"),
    ("город Усолье-Сибирское", 5, 7, "Усолье"),
    ("Ангарский городской округ", 6, 7, "Ангарск"),
    ("Слюдянский район", 3, 8, "Слюдянка"),
    ("Шелеховский район", 4, 8, "Шелехов"),
    ("Иркутский район", 5, 8, "Ирк. р-н"),
    ("город Иркутск", 6, 8, "Иркутск"),
]
TILE_W, TILE_H, GAP = 92, 50, 4
# Light to dark; the text on each: dark on the light ones, white on the darkest (all at least 4.5:1).
SHADES = [("#e8f1fa", "#1b2430"), ("#b3d1ec", "#1b2430"), ("#5b9bd5", "#000000"), ("#0b5394", "#ffffff")]
EMPTY = ("#ffffff", "#1b2430")
HIDDEN = ("#eeeeee", "#1b2430")


@dataclass(frozen=True)
class Bar:
    label: str
    cell: Cell
    y: int
    width: float


def bars(rows: list[tuple[str, Cell]], width: int = 360, row_height: int = 22) -> list[Bar]:
    """Horizontal bars of the non-zero rows, longest first; hidden ones get no bar, only their words."""
    rows = [(label, cell) for label, cell in rows if cell.hidden or cell.value]
    top = max((cell.value for _, cell in rows if not cell.hidden), default=0) or 1
    rows.sort(key=lambda r: (-(r[1].value if r[1].value is not None else 0), r[0]))
    return [
        Bar(label, cell, i * row_height, 0 if cell.hidden else max(1.0, width * cell.value / top))
        for i, (label, cell) in enumerate(rows)
    ]


@dataclass(frozen=True)
class Column:
    label: str
    cell: Cell
    x: int
    height: float


def columns(rows: list[tuple[str, Cell]], height: int = 160, step: int = 70) -> list[Column]:
    """Vertical columns for a time series, in the order given (years)."""
    top = max((cell.value for _, cell in rows if not cell.hidden), default=0) or 1
    return [
        Column(label, cell, i * step, 0 if cell.hidden else (height * cell.value / top if cell.value else 0))
        for i, (label, cell) in enumerate(rows)
    ]


@dataclass(frozen=True)
class Tile:
    name: str
    short: str
    cell: Cell
    x: int
    y: int
    fill: str
    ink: str


def shade(cell: Cell, top: int) -> tuple[str, str]:
    if cell.hidden:
        return HIDDEN
    if not cell.value:
        return EMPTY
    for i, colours in enumerate(SHADES):
        if cell.value <= (i + 1) * top // len(SHADES):
            return colours
    return SHADES[-1]


def tiles(cells_by_name: dict[str, Cell]) -> list[Tile]:
    """The cartogram's tiles; a municipality of the taxonomy missing from the layout is not drawn (see the table)."""
    top = max((c.value for c in cells_by_name.values() if not c.hidden), default=0)
    result = []
    for name, col, row, short in TILES:
        cell = cells_by_name.get(name, Cell(0))
        fill, ink = shade(cell, top)
        result.append(Tile(name, short, cell, col * (TILE_W + GAP), row * (TILE_H + GAP), fill, ink))
    return result


def legend(top: int) -> list[tuple[str, str, str]]:
    """(fill, ink, words) for each shade at the scale of ``top``."""
    if top <= 0:
        return []
    items = []
    for i, (fill, ink) in enumerate(SHADES):
        low = i * top // len(SHADES) + 1
        high = (i + 1) * top // len(SHADES)
        if high >= low:
            items.append((fill, ink, f"{low}–{high}" if high > low else str(low)))
    return items

"""The unit of an entry's model: STL and OBJ carry none, so the author says which one the numbers are in.

Sizes are stored as read from the file (see ``StoredFile.facts``); every page shows them through
:func:`shown_facts`, in millimetres: file units × :data:`FACTORS` (volume × factor³). GLB (metres) and 3MF
(its declared unit) are converted when read: the author's choice applies to STL and OBJ only.
"""

import enum

from catalogue.formatting import millimetres
from catalogue.media.meshes import PLAUSIBLE_LARGEST_SIDE, unit_warnings

# Formats whose numbers have no unit: the author's choice applies to these.
UNITLESS_FORMATS = ("stl", "obj")


class ModelUnit(enum.StrEnum):
    MM = "mm"
    CM = "cm"
    M = "m"
    INCH = "in"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def factor(self) -> float:
        return FACTORS[self]


LABELS = {ModelUnit.MM: "мм", ModelUnit.CM: "см", ModelUnit.M: "м", ModelUnit.INCH: "дюймы"}
# Millimetres per file unit.
FACTORS = {ModelUnit.MM: 1.0, ModelUnit.CM: 10.0, ModelUnit.M: 1000.0, ModelUnit.INCH: 25.4}
# The names ``facts["unit"]`` uses for a model's unit (those of 3MF; ``media inspect`` prints them).
UNIT_NAMES = {ModelUnit.MM: "millimeter", ModelUnit.CM: "centimeter", ModelUnit.M: "meter", ModelUnit.INCH: "inch"}
CHOICES = [(unit.value, unit.label) for unit in ModelUnit]
# The units named in sentences: «если модель сделана в сантиметрах».
IN_UNITS = {ModelUnit.MM: "миллиметрах", ModelUnit.CM: "сантиметрах", ModelUnit.M: "метрах", ModelUnit.INCH: "дюймах"}


def unit_of(value: str | None) -> ModelUnit:
    """The stored unit; anything unknown (or none) is millimetres."""
    try:
        return ModelUnit(value or ModelUnit.MM)
    except ValueError:
        return ModelUnit.MM


def applies(facts: dict | None) -> bool:
    """True when the model's format has no unit of its own (STL, OBJ), so the author's choice counts."""
    return (facts or {}).get("format") in UNITLESS_FORMATS


def shown_facts(facts: dict | None, unit: str | None) -> dict:
    """A model's facts as pages show them: sizes in millimetres for the author's ``unit``.

    The warning about an unlikely size is worked out again for the chosen unit: a model in metres, said to be
    in metres, gets none.
    """
    facts = dict(facts or {})
    chosen = unit_of(unit)
    if not applies(facts) or chosen is ModelUnit.MM or "size_mm" not in facts:
        return facts
    factor = chosen.factor
    facts["size_mm"] = [_round(v * factor) for v in facts["size_mm"]]
    if facts.get("volume_mm3") is not None:
        facts["volume_mm3"] = _round(facts["volume_mm3"] * factor**3)
    facts["unit"], facts["unit_label"] = UNIT_NAMES[chosen], chosen.label
    facts.pop("warnings", None)
    if not _plausible(facts["size_mm"]):
        facts["warnings"] = [
            f"Похоже, единицы выбраны неверно: в {IN_UNITS[chosen]} наибольшая сторона модели — "
            f"{millimetres([max(facts['size_mm'])])}. Проверьте единицы на форме работы."
        ]
    return facts


def suggestion(facts: dict | None) -> str | None:
    """For the entry form: which units make an STL or OBJ of an unlikely size plausible; None when it looks right."""
    facts = facts or {}
    if not applies(facts) or "size_mm" not in facts or not unit_warnings(facts["size_mm"]):
        return None
    largest = max(facts["size_mm"])
    fitting = sorted(
        (unit for unit in ModelUnit if unit is not ModelUnit.MM and _plausible([largest * unit.factor])),
        key=lambda unit: unit.factor,
    )
    said = f"Если числа в файле — миллиметры, наибольшая сторона модели — {millimetres([largest])}: "
    said += "для настоящего предмета это " + ("мало." if largest < PLAUSIBLE_LARGEST_SIDE[0] else "много.")
    if not fitting:
        return f"{said} Ни одни единицы не дают правдоподобного размера: проверьте масштаб модели."
    first, *others = fitting
    options = [f"«{first.label}» (наибольшая сторона {millimetres([largest * first.factor])})"]
    options += [f"«{unit.label}» ({millimetres([largest * unit.factor])})" for unit in others]
    options = ", ".join(options)
    return f"{said} Правдоподобный размер получается в единицах {options}. Выберите те, в которых сделана модель."


def _plausible(size: list[float]) -> bool:
    low, high = PLAUSIBLE_LARGEST_SIDE
    return low <= max(size) <= high


def _round(value: float) -> float:
    """Six significant digits, as the facts are stored."""
    return float(f"{value:.6g}")

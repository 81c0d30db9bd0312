"""Russian dates, plural forms and sorting for templates."""

import datetime as dt

from catalogue.clock import local

MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def ru_date(value: dt.date | dt.datetime | None, with_time: bool = False) -> str:
    """``26 ноября 2026`` (and ``, 14:05`` with the time); moments in Irkutsk time, as people there read them."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local(value)
    text = f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"
    if with_time and isinstance(value, dt.datetime):
        text += f", {value:%H:%M}"
    return text


def plural_form(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for ``n``: 1 проект, 2 проекта, 5 проектов, 21 проект."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def plural(n: int, one: str, few: str, many: str) -> str:
    """``n`` with its noun: ``5 проектов``."""
    return f"{n} {plural_form(n, one, few, many)}"


def fold(text: str) -> str:
    """Case- and ё-insensitive form of ``text``, for matching and sorting."""
    return text.casefold().replace("ё", "е")


#: How much of a typed name search is read: a page of text must not become a LIKE pattern.
MAX_LIKE_CHARS = 200


def like_words(query: str, max_words: int) -> list[str]:
    """The folded words of a typed search for ``.contains(word, autoescape=True)`` (which escapes
    ``%``, ``_`` and the escape character): at most ``MAX_LIKE_CHARS`` characters and ``max_words`` words.
    """
    return fold(query[:MAX_LIKE_CHARS]).split()[:max_words]


def ru_sort_key(text: str) -> tuple[str, str]:
    """Sort key placing Ё with Е, as Russian dictionaries do (code points put it elsewhere)."""
    return (fold(text), text)


TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
        "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
        "э": "e", "ю": "iu", "я": "ia",
    }
)  # fmt: skip


def slugify(text: str, max_length: int = 60) -> str:
    """A readable Latin URL part for a Russian title: «Юный энергетик» -> ``iunyi-energetik``."""
    latin = text.lower().translate(TRANSLIT)
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in latin).split()
    slug = "-".join(words)[:max_length].rstrip("-")
    return slug or "item"


def millimetres(size: list[float]) -> str:
    """``20 × 20 × 12,5 мм``: a model's bounding box (or one length) as people write it."""

    def number(value: float) -> str:
        text = f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"
        return text.rstrip("0").rstrip(".").replace(".", ",") if "." in text else text

    return " × ".join(number(float(v)) for v in size) + " мм"


def register(app) -> None:
    app.add_template_filter(millimetres, "millimetres")
    app.add_template_filter(ru_date, "ru_date")
    app.add_template_filter(plural, "plural")
    app.add_template_global(plural_form, "plural_form")

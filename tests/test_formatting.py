"""Russian dates and plurals as the site shows them; moments in Irkutsk time."""

import datetime as dt

import pytest

from catalogue.exports import safe_cell
from catalogue.formatting import plural, ru_date


@pytest.mark.parametrize(
    ("value", "with_time", "shown"),
    [
        (dt.date(2026, 11, 26), False, "26 ноября 2026"),
        (dt.datetime(2026, 11, 26, 3, 5), True, "26 ноября 2026, 11:05"),
        # 17:30 UTC is already the next day in Irkutsk (UTC+8)
        (dt.datetime(2026, 11, 26, 17, 30), True, "27 ноября 2026, 01:30"),
        (dt.datetime(2026, 12, 31, 16, 0), False, "1 января 2027"),
        (dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC), True, "1 июня 2026, 08:00"),
        (None, True, ""),
    ],
)
def test_ru_date_shows_moments_in_irkutsk_time(value, with_time, shown):
    assert ru_date(value, with_time=with_time) == shown


def test_exported_moments_are_in_irkutsk_time_too():
    assert safe_cell(dt.datetime(2026, 11, 26, 17, 30)) == "27.11.2026 01:30"
    assert safe_cell(dt.date(2026, 11, 26)) == "26.11.2026"


@pytest.mark.parametrize(("n", "shown"), [(1, "1 проект"), (3, "3 проекта"), (11, "11 проектов"), (21, "21 проект")])
def test_plural(n, shown):
    assert plural(n, "проект", "проекта", "проектов") == shown

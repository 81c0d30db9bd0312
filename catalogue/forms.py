"""Base form: Russian messages from WTForms' own translations, CSRF from Flask-WTF."""

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, SelectChoice


class BaseForm(FlaskForm):
    class Meta:
        locales = ("ru_RU", "ru")


class QueryForm(Form):
    """A GET form (filters, search): no CSRF, read from ``request.args``."""

    class Meta:
        locales = ("ru_RU", "ru")


def choices(pairs) -> list[SelectChoice]:
    """``SelectChoice`` options from ``(value, label)`` pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def apply_row_action(rows: FieldList, action: str, max_rows: int) -> bool:
    """Apply an ordered-list button — ``add``, ``remove:N``, ``up:N``, ``down:N`` — to ``rows``.

    Returns True if ``action`` was one. The list is rebuilt so that field names follow the new
    order: a FieldList reads its entries back ordered by the index in their names.
    """
    if not action:
        return False
    data = [{k: v for k, v in entry.form.data.items() if k != "csrf_token"} for entry in rows]
    verb, _, index = action.partition(":")
    n = int(index) if index.isdigit() else -1
    if verb == "add" and len(data) < max_rows:
        data.append({})
    elif verb == "remove" and 0 <= n < len(data) and len(data) > 1:
        data.pop(n)
    elif verb == "up" and 0 < n < len(data):
        data[n - 1], data[n] = data[n], data[n - 1]
    elif verb == "down" and 0 <= n < len(data) - 1:
        data[n], data[n + 1] = data[n + 1], data[n]
    while rows.entries:
        rows.pop_entry()
    for row in data:
        rows.append_entry(row or None)
    return True

"""Base form: Russian messages from WTForms' own translations, CSRF from Flask-WTF."""

from flask_wtf import FlaskForm
from wtforms import Form, SelectChoice


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

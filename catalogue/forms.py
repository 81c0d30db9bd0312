"""Base form: Russian messages from WTForms' own translations, CSRF from Flask-WTF."""

from flask_wtf import FlaskForm
from wtforms import Form


class BaseForm(FlaskForm):
    class Meta:
        locales = ("ru_RU", "ru")


class QueryForm(Form):
    """A GET form (filters, search): no CSRF, read from ``request.args``."""

    class Meta:
        locales = ("ru_RU", "ru")

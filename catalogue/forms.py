"""Form plumbing shared by every feature: base forms with Russian messages, field helpers and
validators, bounded integers, and the one way a service's refusal reaches a form field.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, HiddenField, SelectChoice, SelectMultipleField, TextAreaField
from wtforms import IntegerField as _IntegerField
from wtforms.fields.core import Field
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from catalogue.errors import DomainError
from catalogue.idempotency import new_token

#: The largest id or count any form or address may name: a database integer holds no more.
MAX_ID = 2**31 - 1
REQUIRED = "Заполните это поле."
TOO_LARGE = "Слишком большое число."


class BaseForm(FlaskForm):
    class Meta:
        locales = ("ru_RU", "ru")


class RequestTokenMixin:
    """A create form's hidden token, new each time the empty form is shown (see ``catalogue.idempotency``)."""

    request_token = HiddenField(default=new_token, validators=[Length(max=64)])


class ConsentField(BooleanField):
    """A checkbox that gives a consent to process personal data: the ``checkbox`` macro links it to the policy."""


class QueryForm(Form):
    """A GET form (filters, search): no CSRF, read from ``request.args``."""

    class Meta:
        locales = ("ru_RU", "ru")


# -- values -----------------------------------------------------------------------------------


def strip(value):
    """Filter: surrounding spaces go."""
    return value.strip() if isinstance(value, str) else value


def bounded_int(value, maximum: int = MAX_ID) -> int | None:
    """``value`` (text or int) as a whole number from 0 to ``maximum``, or None when it is empty,
    not a number written in ASCII digits, or beyond the bound (a database would refuse it).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= maximum else None
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def whole_number(value) -> int:
    """Coerce for a select of numbers (``coerce=int`` that refuses what no database column holds).

    :raise ValueError: not a number from 0 to ``MAX_ID``; WTForms shows its own message.
    """
    number = bounded_int(value)
    if number is None:
        raise ValueError(value)
    return number


def optional_int(value) -> int | None:
    """Coerce for a select of row ids: None for an empty, malformed or impossibly large value."""
    return bounded_int(value)


def choices(pairs) -> list[SelectChoice]:
    """``SelectChoice`` options from ``(value, label)`` pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


# -- fields -----------------------------------------------------------------------------------


class IntegerField(_IntegerField):
    """WTForms' integer field that refuses numbers no database column holds (beyond ±``MAX_ID``)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and abs(self.data) > MAX_ID:
            self.data = None
            raise ValueError(TOO_LARGE)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def length(max_length: int, min_length: int = -1) -> Length:
    """``Length`` with the Russian message every form uses."""
    if min_length > 0:
        return Length(min=min_length, max=max_length, message=f"От {min_length} до {max_length} символов.")
    return Length(max=max_length, message=f"Не длиннее {max_length} символов.")


def text_field(label: str, max_length: int, required: bool = True, **kw) -> TextAreaField:
    """A stripped multi-line text of at most ``max_length`` characters."""
    validators = [InputRequired(REQUIRED)] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, length(max_length)], filters=[strip], **kw)


# -- service errors on forms ------------------------------------------------------------------


def field_error(form, error: DomainError, default: str | None = None) -> None:
    """Show a service's refusal next to the field it names, else next to ``default``, else above the form.

    Services may name a field with hyphens where the form's names have underscores (``score-3``).
    """
    message = str(error)
    candidates = [name for field in (error.field, default) if field for name in (field, field.replace("-", "_"))]
    target = next((f for f in (getattr(form, name, None) for name in candidates) if isinstance(f, Field)), None)
    if target is not None:
        target.errors = [*target.errors, message]
    else:
        form.form_errors.append(message)


# -- ordered rows -----------------------------------------------------------------------------


def apply_row_action(rows: FieldList, action: str, max_rows: int) -> bool:
    """Apply an ordered-list button — ``add``, ``remove:N``, ``up:N``, ``down:N`` — to ``rows``.

    Returns True if ``action`` was one. The list is rebuilt so that field names follow the new
    order: a FieldList reads its entries back ordered by the index in their names.
    """
    if not action:
        return False
    data = [{k: v for k, v in entry.form.data.items() if k != "csrf_token"} for entry in rows]
    verb, _, index = action.partition(":")
    n = bounded_int(index, max_rows)
    n = -1 if n is None else n
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

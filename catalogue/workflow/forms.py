"""The moderator's (and author's) decision form, and the queue filters."""

from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from catalogue.forms import BaseForm, QueryForm, length


class DecisionForm(BaseForm):
    comment = TextAreaField(
        "Комментарий автору",
        validators=[Optional(), Length(max=5000, message="Не длиннее 5000 символов.")],
        description="Обязателен, если возвращаете на доработку, отклоняете или снимаете с публикации.",
    )
    expected_status = HiddenField(validators=[length(40)])
    next = HiddenField(validators=[length(2000)])


class QueueFilterForm(QueryForm):
    type = SelectField("Тип материала", validators=[Optional()])
    age = SelectField("Возрастная группа", validators=[Optional()])
    municipality = SelectField("Муниципальное образование", validators=[Optional()])

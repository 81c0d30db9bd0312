"""The «Подписаться» form by a list's results and the frequency form of «Мои подписки»."""

from wtforms import HiddenField, RadioField
from wtforms.validators import InputRequired, Length

from catalogue.forms import BaseForm, choices
from catalogue.subscriptions.models import Frequency
from catalogue.subscriptions.sources import MAX_QUERY_CHARS

FREQUENCY_CHOICES = choices(Frequency.LABELS.items())
CHOOSE_FREQUENCY = "Выберите, как часто присылать письма."


class SubscribeForm(BaseForm):
    kind = HiddenField(validators=[InputRequired(), Length(max=20)])
    query = HiddenField(validators=[Length(max=MAX_QUERY_CHARS)])
    frequency = RadioField(
        "Присылать новое на почту", choices=FREQUENCY_CHOICES, default=Frequency.WEEKLY,
        validators=[InputRequired(CHOOSE_FREQUENCY)],
    )


class FrequencyForm(BaseForm):
    frequency = RadioField(
        "Как часто присылать", choices=FREQUENCY_CHOICES, validators=[InputRequired(CHOOSE_FREQUENCY)]
    )

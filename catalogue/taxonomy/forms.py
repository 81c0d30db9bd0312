"""Administrators' forms for the taxonomies, and the organization list's filters."""

from wtforms import SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from catalogue.forms import REQUIRED, BaseForm, IntegerField, QueryForm, choices, optional_int, strip, whole_number
from catalogue.taxonomy import services
from catalogue.taxonomy.models import OrganizationKind

MAX_POSITION = 10_000
GRADE_CHOICES = [(g, f"{g} класс") for g in services.GRADES]
KIND_CHOICES = list(OrganizationKind.LABELS.items())
CHOOSE_FROM_LIST = "Выберите значение из списка."
GRADE_MESSAGES = {"invalid_value_message": "Класс — от 6 до 11.", "invalid_choice_message": "Класс — от 6 до 11."}
SLUG_HINT = "Используется в адресах страниц и фильтров; после изменения старые ссылки перестанут работать."
POSITION_HINT = "Порядок в списках: меньшее число выше. Если оставить пустым, запись встанет в конец."


def _name_field(label: str, max_length: int) -> StringField:
    return StringField(
        label,
        validators=[InputRequired(REQUIRED), Length(max=max_length, message=f"Не длиннее {max_length} символов.")],
        filters=[strip],
        render_kw={"autocomplete": "off"},
    )


def _slug_field(max_length: int) -> StringField:
    return StringField(
        "Адрес (латиницей)",
        validators=[
            InputRequired(REQUIRED),
            Length(max=max_length, message=f"Не длиннее {max_length} символов."),
            Regexp(f"^{services.SLUG_PATTERN.pattern}$", message=services.SLUG_MESSAGE),
        ],
        filters=[strip],
        description=SLUG_HINT,
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


def _position_in_range(_form, field) -> None:
    # A value that is not a number already has its own message; this one is for numbers only.
    if field.data is not None and not 0 <= field.data <= MAX_POSITION:
        raise ValidationError("Число от 0 до 10 000.")


def _position_field() -> IntegerField:
    return IntegerField(
        "Порядок",
        validators=[Optional(), _position_in_range],
        description=POSITION_HINT,
        render_kw={"min": 0, "max": MAX_POSITION},
    )


class MunicipalityForm(BaseForm):
    name = _name_field("Название", 120)
    kind = SelectField(
        "Вид",
        choices=choices((k, k.capitalize()) for k in services.MUNICIPALITY_KINDS),
        validators=[InputRequired(REQUIRED)],
        invalid_choice_message=CHOOSE_FROM_LIST,
    )

    def changes(self) -> services.MunicipalityData:
        return services.MunicipalityData(name=self.name.data, kind=self.kind.data)


class OrganizationForm(BaseForm):
    name = _name_field("Название организации", 300)
    kind = SelectField(
        "Тип", choices=choices(KIND_CHOICES), default=OrganizationKind.SCHOOL, invalid_choice_message=CHOOSE_FROM_LIST
    )
    municipality_id = SelectField(
        "Муниципальное образование", coerce=optional_int, invalid_choice_message=CHOOSE_FROM_LIST
    )

    def validate_municipality_id(self, field):
        if not field.data:
            raise ValidationError("Выберите муниципальное образование.")

    def changes(self) -> services.OrganizationData:
        return services.OrganizationData(
            name=self.name.data, kind=self.kind.data, municipality_id=self.municipality_id.data
        )


class AgeGroupForm(BaseForm):
    slug = _slug_field(40)
    name = _name_field("Название", 80)
    grade_from = SelectField("С какого класса", coerce=whole_number, choices=choices(GRADE_CHOICES), **GRADE_MESSAGES)
    grade_to = SelectField(
        "По какой класс",
        coerce=whole_number,
        choices=choices(GRADE_CHOICES),
        default=services.GRADES[-1],
        **GRADE_MESSAGES,
    )
    position = _position_field()

    def validate_grade_to(self, field):
        if isinstance(self.grade_from.data, int) and isinstance(field.data, int) and field.data < self.grade_from.data:
            raise ValidationError("Последний класс не может быть меньше первого.")

    def changes(self) -> services.AgeGroupData:
        return services.AgeGroupData(
            slug=self.slug.data,
            name=self.name.data,
            grade_from=self.grade_from.data,
            grade_to=self.grade_to.data,
            position=self.position.data,
        )


class SphereForm(BaseForm):
    slug = _slug_field(60)
    name = _name_field("Название", 120)
    description = TextAreaField(
        "Описание",
        validators=[Optional(), Length(max=500, message="Не длиннее 500 символов.")],
        filters=[strip],
        description="Одна строка: какие профессии и отрасли сюда входят.",
    )
    position = _position_field()

    def changes(self) -> services.SphereData:
        return services.SphereData(
            slug=self.slug.data,
            name=self.name.data,
            description=self.description.data or "",
            position=self.position.data,
        )


class OrganizationFilterForm(QueryForm):
    """The organization list's search and filters, read from the query string."""

    q = SearchField("Название", validators=[Optional(), Length(max=200)], filters=[strip])
    municipality = SelectField("Муниципальное образование", coerce=optional_int, validate_choice=False)
    kind = SelectField("Тип", choices=choices([("", "Все типы"), *KIND_CHOICES]), validate_choice=False)
    state = SelectField(
        "Проверка",
        choices=choices([("", "Все"), ("pending", "Добавлены при регистрации, ждут проверки")]),
        validate_choice=False,
    )


class SynonymGroupForm(BaseForm):
    """A group of the search thesaurus: related words and expressions, one a line."""

    terms = TextAreaField(
        "Слова и выражения",
        validators=[InputRequired(REQUIRED), Length(max=2000, message="Не длиннее 2000 символов.")],
        description=(
            "Каждое на своей строке, например «ИТ», «айти», «информационные технологии». Поиск по любому из них "
            "найдёт и остальные; форма слова не важна."
        ),
        render_kw={"rows": 8, "autocomplete": "off"},
    )

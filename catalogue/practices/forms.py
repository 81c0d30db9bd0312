"""Forms for practices (with an ordered replication guide), adoption marks, and the catalogue filters."""

from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from catalogue.clock import local_today
from catalogue.forms import (
    REQUIRED,
    BaseForm,
    IntegerField,
    MultiCheckboxField,
    QueryForm,
    RequestTokenMixin,
    choices,
    optional_int,
    strip,
    text_field,
    whole_number,
)
from catalogue.media.errors import MiB
from catalogue.media.forms import UploadField
from catalogue.practices import services
from catalogue.practices.roadmap import ROADMAP_ITEMS
from catalogue.practices.services import MAX_ATTACHMENTS, MAX_COMMENT, MAX_NOTE, MAX_STEPS, SORTS

GRADE_CHOICES = [(g, f"{g} класс") for g in range(6, 12)]


class StepForm(Form):
    """One step of the guide; a blank step is dropped, so the last empty row does no harm."""

    class Meta:
        locales = ("ru_RU", "ru")

    title = StringField("Что сделать", validators=[Optional(), Length(max=200)], filters=[strip])
    description = TextAreaField("Как и с кем", validators=[Optional(), Length(max=3000)], filters=[strip])


class PracticeForm(RequestTokenMixin, BaseForm):
    title = StringField(
        "Название практики",
        validators=[InputRequired(REQUIRED), Length(min=5, max=200, message="От 5 до 200 символов.")],
        filters=[strip],
    )
    summary = text_field("Кратко о практике", 600, description="Два-три предложения для карточки в каталоге.")
    organization_id = SelectField(
        "Организация",
        coerce=optional_int,
        validators=[InputRequired("Выберите организацию.")],
        validate_choice=False,  # checked by the view, with a clearer message
        description="Школа или колледж, где практика сложилась.",
    )
    roadmap_items = MultiCheckboxField(
        "Пункты дорожной карты",
        coerce=whole_number,
        choices=choices((i.number, f"{i.number}. {i.title}") for i in ROADMAP_ITEMS),
    )
    grade_from = SelectField("С класса", coerce=whole_number, choices=choices(GRADE_CHOICES), default=6)
    grade_to = SelectField("До класса включительно", coerce=whole_number, choices=choices(GRADE_CHOICES), default=11)
    sphere_ids = MultiCheckboxField("Профессиональные сферы", coerce=whole_number, validators=[Optional()])
    participants = IntegerField(
        "Участников, человек",
        validators=[Optional(), NumberRange(min=1, max=1_000_000, message="От 1 до 1 000 000.")],
    )
    student_share = IntegerField(
        "Доля обучающихся организации, %",
        validators=[Optional(), NumberRange(min=0, max=100, message="От 0 до 100 %%.")],
    )
    period_from = DateField("Период: начало", validators=[InputRequired("Укажите, с какого времени идёт практика.")])
    period_to = DateField("Период: окончание", validators=[Optional()], description="Пусто — практика идёт сейчас.")
    results = text_field(
        "Результаты и эффекты", 4000, description="Что изменилось: выбор профиля, поступления, отзывы — с цифрами."
    )
    resources = text_field("Что понадобится", 4000, required=False, description="Люди, партнёры, оборудование, деньги.")
    steps = FieldList(FormField(StepForm), min_entries=1, max_entries=MAX_STEPS + 1)
    description = text_field("Подробное описание", 12000, description="История, детали, советы; можно Markdown.")
    contacts = text_field("Контакты", 1000, description="Кому писать или звонить, чтобы перенять опыт.")
    attachments = UploadField("Добавить файлы", kind="document", max_files=MAX_ATTACHMENTS, max_size=20 * MiB)
    note = text_field("Что изменилось и почему", MAX_NOTE, required=False, description="Пояснение для модератора.")

    def validate_grade_to(self, field):
        if self.grade_from.data and field.data and field.data < self.grade_from.data:
            raise ValidationError("Последний класс не может быть меньше первого.")

    def validate_period_to(self, field):
        if field.data and self.period_from.data and field.data < self.period_from.data:
            raise ValidationError("Период заканчивается раньше, чем начинается.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.roadmap_items.data:
            self.roadmap_items.errors = ["Отметьте хотя бы один пункт дорожной карты."]
            valid = False
        if not any(step.form.title.data for step in self.steps):
            self.steps.errors = ["Добавьте хотя бы один шаг: у шага должно быть название."]
            valid = False
        return valid

    def practice_data(self) -> services.PracticeData:
        """What the form says, as the service takes it (the site's form and the content import alike)."""
        return services.PracticeData(
            title=self.title.data or "",
            summary=self.summary.data or "",
            description=self.description.data or "",
            organization_id=self.organization_id.data,
            roadmap_items=self.roadmap_items.data or [],
            grade_from=self.grade_from.data,
            grade_to=self.grade_to.data,
            sphere_ids=self.sphere_ids.data or [],
            period_from=self.period_from.data,
            period_to=self.period_to.data,
            participants=self.participants.data,
            student_share=self.student_share.data,
            results=self.results.data or "",
            resources=self.resources.data or "",
            contacts=self.contacts.data or "",
            steps=[services.StepData(row["title"] or "", row["description"] or "") for row in self.steps.data],
        )


class AdoptionForm(BaseForm):
    adopted_on = DateField("Когда внедрили", validators=[InputRequired("Укажите дату внедрения.")])
    comment = text_field(
        "Коротко: как прошло",
        MAX_COMMENT,
        required=False,
        description="Что взяли, что изменили под себя, сколько участвовало.",
    )

    def validate_adopted_on(self, field):
        if field.data and field.data > local_today():
            raise ValidationError("Дата внедрения не может быть в будущем.")


class CatalogueFilterForm(QueryForm):
    item = SelectField(
        "Пункт дорожной карты",
        choices=choices([("", "Все пункты")] + [(str(i.number), f"{i.number}. {i.title}") for i in ROADMAP_ITEMS]),
        validators=[Optional()],
    )
    municipality = SelectField("Муниципальное образование", validators=[Optional()])
    grade = SelectField(
        "Класс",
        choices=choices([("", "Любой")] + [(str(g), label) for g, label in GRADE_CHOICES]),
        validators=[Optional()],
    )
    sphere = SelectField("Сфера", validators=[Optional()])
    sort = SelectField("Порядок", choices=choices(SORTS.items()), default="new", validators=[Optional()])

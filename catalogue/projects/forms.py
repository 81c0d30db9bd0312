"""Forms for typical projects (with an ordered list of stages) and for class reports."""

import datetime as dt

from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
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
from catalogue.media.attachments import RULES
from catalogue.media.forms import UploadField
from catalogue.projects import runs, services
from catalogue.projects.models import DURATIONS, ProjectFormat
from catalogue.projects.services import MAX_STAGES, SORTS


class StageForm(Form):
    """One stage; a blank stage is dropped, so the last empty row of the form does no harm."""

    class Meta:
        locales = ("ru_RU", "ru")

    title = StringField("Название этапа", validators=[Optional(), Length(max=200)], filters=[strip])
    description = TextAreaField("Что делают обучающиеся", validators=[Optional(), Length(max=3000)], filters=[strip])


class ProjectForm(RequestTokenMixin, BaseForm):
    title = StringField(
        "Название проекта",
        validators=[InputRequired(REQUIRED), Length(min=5, max=200, message="От 5 до 200 символов.")],
        filters=[strip],
    )
    summary = text_field("Кратко о проекте", 600, description="Два-три предложения для карточки в каталоге.")
    goal = text_field("Цель", 2000)
    age_group_ids = MultiCheckboxField("Возрастные группы", coerce=whole_number, validators=[Optional()])
    sphere_ids = MultiCheckboxField("Профессиональные сферы", coerce=whole_number, validators=[Optional()])
    format = RadioField(
        "Формат",
        choices=choices(ProjectFormat.LABELS.items()),
        validators=[InputRequired("Выберите формат проекта.")],
    )
    duration_weeks = IntegerField(
        "Продолжительность, недель",
        validators=[
            InputRequired("Укажите продолжительность в неделях."),
            NumberRange(min=1, max=52, message="От 1 до 52 недель."),
        ],
    )
    stages = FieldList(FormField(StageForm), min_entries=1, max_entries=MAX_STAGES + 1)
    expected_results = text_field("Ожидаемые результаты", 4000)
    resources = text_field(
        "Ресурсы и материалы", 4000, required=False, description="Оборудование, программы, партнёры."
    )
    attachments = UploadField("Файлы к проекту", kind="document", max_files=RULES["project"].max_files)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.age_group_ids.data:
            self.age_group_ids.errors = ["Выберите хотя бы одну возрастную группу."]
            valid = False
        if not any(stage.form.title.data for stage in self.stages):
            self.stages.errors = ["Добавьте хотя бы один этап: у этапа должно быть название."]
            valid = False
        return valid

    def project_data(self, **files) -> services.ProjectData:
        """What the form says, as the service takes it (the site's form and the content import alike); ``files``:
        the attachments to add and remove."""
        return services.ProjectData(
            title=self.title.data,
            summary=self.summary.data,
            goal=self.goal.data,
            format=self.format.data,
            duration_weeks=self.duration_weeks.data,
            expected_results=self.expected_results.data,
            resources=self.resources.data or "",
            age_group_ids=self.age_group_ids.data or [],
            sphere_ids=self.sphere_ids.data or [],
            stages=[services.StageData(row["title"] or "", row["description"] or "") for row in self.stages.data],
            **files,
        )


class ReportForm(RequestTokenMixin, BaseForm):
    class_name = StringField(
        "Класс или группа",
        validators=[InputRequired(REQUIRED), Length(max=40)],
        filters=[strip],
        description="Например: 8 «Б» или сборная 9-х классов.",
    )
    grade = SelectField(
        "Параллель",
        coerce=whole_number,
        choices=choices((g, f"{g} класс") for g in range(6, 12)),
        validators=[InputRequired("Выберите класс.")],
    )
    started_on = DateField("Начало", validators=[InputRequired("Укажите дату начала.")])
    finished_on = DateField("Окончание", validators=[InputRequired("Укажите дату окончания.")])
    participants = IntegerField(
        "Участников",
        validators=[InputRequired("Сколько обучающихся участвовало?"), NumberRange(min=1, max=1000)],
    )
    body = text_field("Что сделали", 8000, description="Как шла работа по этапам; можно использовать Markdown.")
    results = text_field("Результаты", 4000, description="Продукты, выступления, выбор профиля — с цифрами.")
    photos = UploadField("Фотографии", kind="image", max_files=RULES["report"].max_files)

    def validate_finished_on(self, field):
        if self.started_on.data and field.data and field.data < self.started_on.data:
            raise ValidationError("Дата окончания раньше даты начала.")
        if field.data and field.data > local_today() + dt.timedelta(days=1):
            raise ValidationError("Отчёт пишется о проекте, который уже прошёл.")

    def report_data(self, **files) -> services.ReportData:
        """What the form says, as the service takes it; ``files``: the photos to add and remove."""
        return services.ReportData(
            class_name=self.class_name.data,
            grade=self.grade.data,
            started_on=self.started_on.data,
            finished_on=self.finished_on.data,
            participants=self.participants.data,
            body=self.body.data,
            results=self.results.data,
            **files,
        )


class RunForm(BaseForm):
    """«Взять в работу»: which class runs the project, from when."""

    class_label = StringField(
        "Класс",
        validators=[InputRequired("Укажите класс, например «7Б»."), Length(max=20, message="Не длиннее 20 символов.")],
        filters=[strip],
        description="Например: 7Б или 8 «А».",
    )
    grade = SelectField(
        "Параллель",
        coerce=whole_number,
        choices=choices((g, f"{g} класс") for g in range(6, 12)),
        validators=[InputRequired("Выберите параллель.")],
    )
    started_on = DateField("Начало работы", validators=[InputRequired("Укажите дату начала.")])
    pupils = IntegerField(
        "Обучающихся",
        validators=[Optional(), NumberRange(min=1, max=1000, message="От 1 до 1000.")],
        description="Необязательно.",
    )

    def validate_started_on(self, field):
        today = local_today()
        if field.data and not (today - dt.timedelta(days=366) <= field.data <= today + dt.timedelta(days=366)):
            raise ValidationError("Укажите дату в пределах года от сегодняшней.")

    def run_data(self) -> runs.RunData:
        return runs.RunData(self.class_label.data, self.grade.data, self.started_on.data, self.pupils.data)


class RunReportForm(ReportForm):
    """The report form of the site, which may link the report to one of the teacher's classes running the project."""

    # Checked by the service (``runs.link_report``): only the teacher's own classes of this project are linked.
    run_id = SelectField(
        "Класс, который проводил проект", coerce=optional_int, validators=[Optional()], validate_choice=False
    )


class CatalogueFilterForm(QueryForm):
    age = SelectField("Возрастная группа", validators=[Optional()])
    sphere = SelectField("Сфера", validators=[Optional()])
    format = SelectField(
        "Формат", choices=choices([("", "Любой"), *ProjectFormat.LABELS.items()]), validators=[Optional()]
    )
    duration = SelectField(
        "Продолжительность",
        choices=choices([("", "Любая")] + [(key, label) for key, label, _low, _high in DURATIONS]),
        validators=[Optional()],
    )
    sort = SelectField("Порядок", choices=choices(SORTS.items()), default="new", validators=[Optional()])

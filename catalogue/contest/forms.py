"""Forms of the contest: seasons and their parts (administrators), entries with files and consents,
the jury's scores, and the gallery's filters.
"""

from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from catalogue.contest import units
from catalogue.contest.models import CONSENT_GIVER_LABELS
from catalogue.forms import (
    REQUIRED,
    BaseForm,
    ConsentField,
    IntegerField,
    QueryForm,
    RequestTokenMixin,
    choices,
    optional_int,
    strip,
    whole_number,
)
from catalogue.media.attachments import RULES
from catalogue.media.errors import MiB
from catalogue.media.forms import UploadField

GRADE_CHOICES = [(g, f"{g} класс") for g in range(1, 12)]


def _date(label: str) -> DateField:
    return DateField(label, validators=[InputRequired("Укажите дату.")])


class SeasonForm(BaseForm):
    year = IntegerField(
        "Год сезона", validators=[InputRequired("Укажите год."), NumberRange(2000, 2100, "Год — от 2000 до 2100.")]
    )
    title = StringField(
        "Название", validators=[InputRequired(REQUIRED), Length(max=200)], filters=[strip],
        description="Например: «СоЗДатель-2027».",
    )  # fmt: skip
    rules = TextAreaField(
        "Положение о конкурсе",
        validators=[Optional(), Length(max=20000)],
        filters=[strip],
        description="Правила, требования к работам, контакты. Можно использовать Markdown.",
    )
    submission_opens = _date("Приём работ: с")
    submission_closes = _date("Приём работ: по (включительно)")
    judging_opens = _date("Работа жюри: с")
    judging_closes = _date("Работа жюри: по (включительно)")
    results_date = _date("Объявление итогов")
    entries_per_nomination = IntegerField(
        "Работ одного участника в номинации",
        default=1,
        validators=[InputRequired(REQUIRED), NumberRange(1, 10, "От 1 до 10.")],
    )
    blind_judging = BooleanField("Слепое судейство: жюри и посетители не видят авторов до объявления итогов")


class CopySeasonForm(BaseForm):
    year = IntegerField(
        "Год нового сезона",
        validators=[InputRequired("Укажите год."), NumberRange(2000, 2100, "Год — от 2000 до 2100.")],
    )


class NominationForm(BaseForm):
    name = StringField("Название номинации", validators=[InputRequired(REQUIRED), Length(max=200)], filters=[strip])
    description = TextAreaField("Описание", validators=[Optional(), Length(max=3000)], filters=[strip])


class AgeCategoryForm(BaseForm):
    name = StringField(
        "Название категории", validators=[InputRequired(REQUIRED), Length(max=100)], filters=[strip],
        description="Например: «6–8 классы».",
    )  # fmt: skip
    grade_from = SelectField("С класса", coerce=whole_number, choices=choices(GRADE_CHOICES), default=6)
    grade_to = SelectField("По класс", coerce=whole_number, choices=choices(GRADE_CHOICES), default=8)


class CriterionForm(BaseForm):
    name = StringField("Критерий", validators=[InputRequired(REQUIRED), Length(max=200)], filters=[strip])
    description = TextAreaField("Что оценивается", validators=[Optional(), Length(max=2000)], filters=[strip])
    max_score = IntegerField(
        "Максимальный балл", default=10, validators=[InputRequired(REQUIRED), NumberRange(1, 100, "От 1 до 100.")]
    )
    weight = FloatField(
        "Вес",
        default=1.0,
        validators=[
            InputRequired("Укажите вес, например 1 или 1.5."),
            NumberRange(0.001, 10, "Больше 0, не больше 10."),
        ],
    )


PART_FORMS = {"nominations": NominationForm, "categories": AgeCategoryForm, "criteria": CriterionForm}


class JuryForm(BaseForm):
    nomination_id = SelectField("Номинация", coerce=optional_int, validators=[InputRequired("Выберите номинацию.")])
    juror_id = SelectField("Член жюри", coerce=optional_int, validators=[InputRequired("Выберите члена жюри.")])


class EntryForm(RequestTokenMixin, BaseForm):
    # Teachers only; the service checks that the student is of the teacher's organization.
    student_id = SelectField("Обучающийся", coerce=optional_int, validators=[Optional()], validate_choice=False)
    nomination_id = RadioField("Номинация", coerce=optional_int, validators=[InputRequired("Выберите номинацию.")])
    age_category_id = RadioField(
        "Возрастная категория", coerce=optional_int, validators=[InputRequired("Выберите возрастную категорию.")]
    )
    title = StringField(
        "Название работы",
        validators=[InputRequired(REQUIRED), Length(min=3, max=200, message="От 3 до 200 символов.")],
        filters=[strip],
    )
    description = TextAreaField(
        "Описание работы",
        validators=[InputRequired(REQUIRED), Length(max=5000, message="Не длиннее 5000 символов.")],
        filters=[strip],
        description="Что за модель, зачем она, как сделана, с какой профессией связана. Можно использовать Markdown.",
    )
    software = StringField(
        "Программы", validators=[Optional(), Length(max=300)], filters=[strip],
        description="Например: Blender, Tinkercad, КОМПАС-3D.",
    )  # fmt: skip
    coauthors = StringField(
        "Соавторы", validators=[Optional(), Length(max=500)], filters=[strip],
        description="Имена соавторов через запятую, если работа коллективная.",
    )  # fmt: skip
    supervisor_query = StringField("Найти руководителя", validators=[Optional(), Length(max=100)], filters=[strip])
    supervisor_id = RadioField("Руководитель", coerce=optional_int, validators=[Optional()], validate_choice=False)
    model = UploadField("3D-модель", kind="model", max_files=1, max_size=50 * MiB)
    model_unit = SelectField(
        "Единицы модели",
        choices=choices(units.CHOICES),
        default=units.ModelUnit.MM.value,
        validators=[Optional()],
        description="В STL и OBJ единицы не записываются: выберите, в чём сделана модель. "
        "Для GLB и 3MF единицы берутся из файла.",
    )
    images = UploadField("Изображения", kind="image", max_files=RULES["entry"].max_files, max_size=20 * MiB)
    note = UploadField("Пояснительная записка (PDF)", kind="document", allowed={"pdf"}, max_files=1, max_size=20 * MiB)
    consent_processing = ConsentField("Согласие на обработку персональных данных участника получено")
    consent_publication = ConsentField(
        "Согласие на публикацию работы и данных участника (имя, первая буква фамилии, школа, класс) получено"
    )
    consent_giver = RadioField(
        "Кто даёт согласие", choices=choices(CONSENT_GIVER_LABELS.items()), validators=[Optional()]
    )
    consent_giver_name = StringField(
        "ФИО родителя или законного представителя", validators=[Optional(), Length(max=200)], filters=[strip]
    )
    # Under 14 the parent confirms: by a link sent to this address, or on the printed form.
    consent_parent_email = StringField(
        "Электронная почта родителя или законного представителя",
        validators=[Optional(), Length(max=254, message="Не длиннее 254 символов.")],
        filters=[strip],
    )
    consent_paper = BooleanField("Электронной почты нет: распечатать бланк согласия, подписать и загрузить скан")

    def validate_consent_giver_name(self, field):
        giver = self.consent_giver.data
        ticked = self.consent_processing.data or self.consent_publication.data
        if ticked and giver in ("parent", "representative") and len(field.data or "") < 5:
            raise ValidationError("Укажите фамилию, имя и отчество родителя или законного представителя.")

    def validate_consent_giver(self, field):
        if (self.consent_processing.data or self.consent_publication.data) and not field.data:
            raise ValidationError("Укажите, кто даёт согласие.")


class ConsentForm(BaseForm):
    consent_processing = EntryForm.consent_processing
    consent_publication = EntryForm.consent_publication
    consent_giver = EntryForm.consent_giver
    consent_giver_name = EntryForm.consent_giver_name
    consent_parent_email = EntryForm.consent_parent_email
    consent_paper = EntryForm.consent_paper
    validate_consent_giver_name = EntryForm.validate_consent_giver_name
    validate_consent_giver = EntryForm.validate_consent_giver


class ConsentScanForm(BaseForm):
    scan = UploadField(
        "Скан или фотография подписанного бланка", kind="document", allowed={"pdf", "jpeg", "png"}, max_files=1,
        max_size=20 * MiB,
    )  # fmt: skip


class ConsentCheckForm(BaseForm):
    comment = TextAreaField(
        "Комментарий (обязателен, если бланк не принят)", validators=[Optional(), Length(max=1000)], filters=[strip]
    )


class ParentConsentForm(BaseForm):
    """The parent's answer on the page of the link: two buttons (``decision``), CSRF-protected."""


class ActionForm(BaseForm):
    """A button with a CSRF token (withdraw consent, publish results, remove a juror...)."""


class ReviewForm(BaseForm):
    comment = TextAreaField(
        "Комментарий (необязательно)", validators=[Optional(), Length(max=3000, message="Не длиннее 3000 символов.")],
        filters=[strip],
    )  # fmt: skip


def review_form(criteria, data=None) -> ReviewForm:
    """A review form with one score field ``score_<id>`` per criterion (0..maximum)."""

    class Form(ReviewForm):
        pass

    for criterion in criteria:
        setattr(
            Form,
            f"score_{criterion.id}",
            IntegerField(
                criterion.name,
                validators=[
                    InputRequired(f"Поставьте оценку по критерию «{criterion.name}»."),
                    NumberRange(0, criterion.max_score, f"От 0 до {criterion.max_score}."),
                ],
                description=f"от 0 до {criterion.max_score}",
            ),
        )
    form = Form(data=data)  # on POST, Flask-WTF reads the request's form instead
    form.score_fields = [(c, getattr(form, f"score_{c.id}")) for c in criteria]
    return form


class GalleryFilterForm(QueryForm):
    nomination = SelectField("Номинация", coerce=optional_int, validators=[Optional()])
    age = SelectField("Возрастная категория", coerce=optional_int, validators=[Optional()])
    municipality = SelectField("Муниципальное образование", coerce=optional_int, validators=[Optional()])

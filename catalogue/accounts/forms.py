"""Account forms: registration, login, password change and reset, admin edit."""

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional

from catalogue.accounts.services import MIN_PASSWORD_LENGTH
from catalogue.clock import local_today
from catalogue.forms import (
    REQUIRED,
    BaseForm,
    ConsentField,
    IntegerField,
    MultiCheckboxField,
    choices,
    length,
    strip,
    whole_number,
)
from catalogue.roles import ROLE_LABELS, Role
from catalogue.taxonomy.models import OrganizationKind

GRADES = [(str(g), f"{g} класс") for g in range(6, 12)]  # (value, label) pairs


def _name_field(label: str, required: bool = True) -> StringField:
    validators = [InputRequired(REQUIRED)] if required else [Optional()]
    return StringField(
        label,
        validators=[*validators, Length(max=80, message="Не длиннее 80 символов.")],
        filters=[strip],
        render_kw={"autocomplete": "off"},
    )


def _new_password_fields():
    password = PasswordField(
        "Пароль",
        validators=[
            InputRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Пароль ещё раз",
        validators=[InputRequired(REQUIRED), length(200), EqualTo("password", message="Пароли не совпадают.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegistrationForm(BaseForm):
    role = RadioField(
        "Кто вы",
        choices=choices([(Role.STUDENT.value, "Обучающийся (6–11 класс)"), (Role.TEACHER.value, "Педагог")]),
        default=Role.STUDENT.value,
        validators=[InputRequired("Выберите, кто вы.")],
    )
    last_name = _name_field("Фамилия")
    first_name = _name_field("Имя")
    middle_name = _name_field("Отчество (если есть)", required=False)
    email = EmailField(
        "Электронная почта",
        validators=[
            InputRequired(REQUIRED),
            Email("Введите адрес электронной почты, например ivanova@mail.ru."),
            Length(max=254),
        ],
        filters=[strip],
        render_kw={"autocomplete": "email"},
    )
    password, password_confirm = _new_password_fields()
    municipality_id = SelectField(
        "Муниципальное образование",
        coerce=whole_number,
        validators=[InputRequired("Выберите муниципальное образование.")],
    )
    organization_query = StringField("Найдите свою организацию", validators=[Optional(), Length(max=200)])
    organization_id = IntegerField("Организация", validators=[Optional()])
    new_organization = BooleanField("Добавить мою организацию: выбранный муниципалитет, название ниже")
    new_organization_name = StringField(
        "Полное название организации",
        validators=[Optional(), Length(max=300, message="Не длиннее 300 символов.")],
        filters=[lambda v: " ".join(v.split()) if isinstance(v, str) else v],
        description="Например: МБОУ «СОШ № 5» г. Тулуна. Администратор сайта проверит название.",
    )
    new_organization_kind = SelectField(
        "Тип организации", choices=choices(OrganizationKind.LABELS.items()), default=OrganizationKind.SCHOOL
    )
    grade = SelectField("Класс", choices=choices([("", "— выберите —"), *GRADES]), validators=[Optional()])
    birth_date = DateField(
        "Дата рождения",
        validators=[Optional()],
        description="Нужна для правил конкурса; на сайте не показывается.",
    )
    consent = ConsentField(
        "Я соглашаюсь на обработку моих персональных данных "
        "(обучающимся до 14 лет — с согласия родителя или законного представителя)",
        validators=[InputRequired("Без согласия на обработку данных зарегистрироваться нельзя.")],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.new_organization.data:
            if not self.new_organization_name.data and not self.new_organization_name.errors:
                self.new_organization_name.errors = ["Напишите название своей организации."]
                valid = False
        elif not self.organization_id.data and not self.organization_id.errors:
            # Checked here: an inline validator would not run after Optional() on an empty value.
            self.organization_id.errors = [
                "Выберите организацию из списка: начните вводить её название. "
                "Если её нет в списке, отметьте «Моей организации нет в списке»."
            ]
            valid = False
        if self.role.data == Role.STUDENT.value:
            valid &= self._check_student_fields()
        return valid

    def _check_student_fields(self) -> bool:
        # Grade and birth date are optional fields for teachers, so they are checked here.
        if not self.grade.data:
            self.grade.errors = [*self.grade.errors, "Укажите класс."]
        born = self.birth_date.data
        if born is None and not self.birth_date.errors:
            self.birth_date.errors = [*self.birth_date.errors, "Укажите дату рождения."]
        elif born is not None and not 9 <= (local_today() - born).days / 365.25 <= 20:
            self.birth_date.errors = [
                *self.birth_date.errors,
                "Проверьте дату рождения: регистрируются обучающиеся 6–11 классов.",
            ]
        return not (self.grade.errors or self.birth_date.errors)


class LoginForm(BaseForm):
    email = EmailField(
        "Электронная почта",
        validators=[InputRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Пароль", validators=[InputRequired(REQUIRED), length(200)], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField("Запомнить меня на этом устройстве")


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "Текущий пароль",
        validators=[InputRequired(REQUIRED), length(200)],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = _new_password_fields()


class ProfileForm(BaseForm):
    last_name = _name_field("Фамилия")
    first_name = _name_field("Имя")
    middle_name = _name_field("Отчество (если есть)", required=False)
    grade = SelectField("Класс", choices=choices(GRADES), validators=[Optional()])


class ResetRequestForm(BaseForm):
    email = EmailField(
        "Электронная почта",
        validators=[InputRequired(REQUIRED), Email("Введите адрес электронной почты."), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(BaseForm):
    password, password_confirm = _new_password_fields()


class AdminUserForm(BaseForm):
    last_name = _name_field("Фамилия")
    first_name = _name_field("Имя")
    middle_name = _name_field("Отчество", required=False)
    email = EmailField(
        "Электронная почта",
        validators=[InputRequired(REQUIRED), Email("Введите адрес электронной почты."), Length(max=254)],
    )
    roles = MultiCheckboxField(
        "Роли", choices=choices((r.value, ROLE_LABELS[r]) for r in Role), validators=[Optional()]
    )
    organization_id = SelectField("Организация", coerce=whole_number, validators=[Optional()])
    grade = SelectField("Класс (для обучающихся)", choices=choices([("", "—"), *GRADES]), validators=[Optional()])
    coordinated_municipality_id = SelectField(
        "Муниципалитет (для муниципального координатора)", coerce=whole_number, validators=[Optional()]
    )
    active = BooleanField("Учётная запись активна")

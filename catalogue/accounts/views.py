"""Registration, login and logout, the profile, password change and reset."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from catalogue.accounts import services, supervision
from catalogue.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from catalogue.accounts.models import Role, User
from catalogue.accounts.sessions import end_all_sessions, end_session, start_session
from catalogue.extensions import db
from catalogue.forms import BaseForm, choices, field_error
from catalogue.htmx import redirect_htmx_aware, render
from catalogue.pagination import Pager
from catalogue.permissions import InvalidInput, PermissionDenied
from catalogue.taxonomy.models import Organization
from catalogue.taxonomy.services import municipalities, search_organizations

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/auth/register", methods=["GET", "POST"])
def register():
    """Register as a student or a teacher; ``next`` (a path on this site) is where the login link leads."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("start.index"))
    form = RegistrationForm()
    form.municipality_id.choices = choices([(0, "— выберите —")] + [(m.id, m.name) for m in municipalities()])
    finding = "find_organization" in request.form  # the no-JavaScript organization search
    status = 200
    if request.method == "POST" and not finding and form.validate():
        student = form.role.data == Role.STUDENT.value
        try:
            services.register_user(
                services.Registration(
                    role=Role(form.role.data),
                    email=form.email.data,
                    password=form.password.data,
                    last_name=form.last_name.data,
                    first_name=form.first_name.data,
                    middle_name=form.middle_name.data or "",
                    municipality_id=form.municipality_id.data,
                    organization_id=form.organization_id.data,
                    new_organization_name=form.new_organization_name.data if form.new_organization.data else "",
                    new_organization_kind=form.new_organization_kind.data,
                    # Only students are asked for them; a teacher's stray values are not kept.
                    grade=int(form.grade.data) if form.grade.data and student else None,
                    birth_date=form.birth_date.data if student else None,
                    next_url=next_url or "",
                )
            )
        except services.AccountError as e:
            field_error(form, e, default="email")
        else:
            # The same answer whether the address was free or not: the letter tells its owner which.
            flash(
                f"Проверьте почту: мы отправили письмо на адрес {services.normalize_email(form.email.data)}. "
                "Откройте ссылку из письма, чтобы войти.",
                "success",
            )
            return redirect(url_for("accounts.login", next=next_url), 303)
    if request.method == "POST" and not finding:
        status = 422
    municipality_id = form.municipality_id.data or None
    options = search_organizations(form.organization_query.data or "", municipality_id)
    selected = db.session.get(Organization, form.organization_id.data) if form.organization_id.data else None
    if selected is not None and selected not in options:
        options.insert(0, selected)
    return render(
        "accounts/register.html",
        status=status,
        form=form,
        options=options,
        selected_id=form.organization_id.data,
        query=form.organization_query.data,
        municipality_id=municipality_id,
        next_url=next_url,
    )


@bp.route("/auth/login", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("start.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except services.LoginThrottled as e:
            field_error(form, e)
            status = 429
        except services.AccountError as e:
            field_error(form, e)
            status = 422
        else:
            start_session(user, remember=form.remember.data)
            flash(f"Здравствуйте, {user.first_name}!", "success")
            return redirect(next_url or url_for("start.index"), 303)
    elif request.method == "POST":
        status = 422
    return render("accounts/login.html", status=status, form=form, next_url=next_url)


@bp.post("/auth/logout")
def logout():
    """Log out: the session ends on the server too, so a copy of its cookies opens nothing."""
    end_session()
    flash("Вы вышли из учётной записи.", "info")
    return redirect_htmx_aware(url_for("main.home"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of this account, on every device, this one included."""
    end_all_sessions(current_user._get_current_object())
    db.session.commit()
    end_session()
    flash("Вы вышли из учётной записи на всех устройствах.", "info")
    return redirect_htmx_aware(url_for("accounts.login"))


@bp.route("/auth/link", methods=["GET", "POST"])
def request_login_link():
    """Ask for a one-time login link by e-mail (works even while password logins are throttled)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_login_link(form.email.data)
        flash("Если такой адрес зарегистрирован, на него отправлено письмо со ссылкой для входа.", "info")
        return redirect(url_for("accounts.login"), 303)
    return render("accounts/login_link_request.html", status=422 if request.method == "POST" else 200, form=form)


@bp.route("/auth/link/<token>", methods=["GET", "POST"])
def login_by_link(token: str):
    """Log in with the link from the e-mail. Opening it only shows a button (mail scanners open links too);
    pressing the button uses the link up. ``next`` (a path on this site, e.g. the form registration started
    from) is where it leads; otherwise the start page."""
    next_url = safe_next(request.values.get("next"))
    form = BaseForm()
    if form.validate_on_submit():
        try:
            user = services.use_login_link(token, request.remote_addr or "")
        except services.AccountError as e:
            flash(str(e), "error")
            return redirect(url_for("accounts.request_login_link"), 303)
        start_session(user)
        flash(f"Здравствуйте, {user.first_name}!", "success")
        return redirect(next_url or url_for("start.index"), 303)
    try:
        services.user_for_login_link(token)
    except services.AccountError as e:
        flash(str(e), "error")
        return redirect(url_for("accounts.request_login_link"), 303)
    return render("accounts/login_link.html", status=422 if request.method == "POST" else 200, form=form)


@bp.get("/account/")
@login_required
def profile():
    """The person's own account page: for a student also the supervision requests to answer and those in
    force; for a teacher whether they are confirmed."""
    user = current_user._get_current_object()
    return render(
        "accounts/profile.html",
        user=user,
        supervisions=supervision.of_student(user) if user.is_student else [],
        button_form=BaseForm(),
        verifiers=services.VERIFIERS_HINT,
    )


def _button_pressed() -> None:
    """:raise 400: the CSRF token of a button form is missing or wrong."""
    if not BaseForm().validate():
        abort(400)


@bp.post("/account/supervision/<int:supervision_id>/<any(accept, decline, end):answer>")
@login_required
def answer_supervision(supervision_id: int, answer: str):
    """A student accepts or declines a teacher's request to supervise them, or ends a supervision.

    :raise 404: not this student's. :raise 409: answered already or not in force.
    """
    _button_pressed()
    user = current_user._get_current_object()
    if answer == "end":
        supervision.end(user, supervision_id)
        flash("Руководство завершено: педагог больше не видит ваши работы и не может их менять.", "success")
    else:
        supervision.answer(user, supervision_id, accept=answer == "accept")
        flash("Руководство принято." if answer == "accept" else "Предложение отклонено.", "success")
    return redirect(url_for("accounts.profile"), 303)


@bp.get("/account/students")
@login_required
def students():
    """A verified teacher's students (their organization's), with the supervision of each.

    :raise 403: not a teacher.
    """
    user = current_user._get_current_object()
    supervision.ensure_teacher(user)
    return render(
        "accounts/students.html",
        verified=user.is_verified_teacher,
        message=supervision.unverified_message(),
        students=(students := supervision.students_page(user, Pager.from_request())),
        mine=supervision.of_teacher(user, students),
        button_form=BaseForm(),
    )


@bp.post("/account/students/<int:student_id>/supervise")
@login_required
def supervise(student_id: int):
    """A verified teacher asks a student of their organization to accept them as supervisor.

    :raise 403: not a teacher. :raise 404: no such person.
    """
    _button_pressed()
    user = current_user._get_current_object()
    supervision.ensure_teacher(user)
    student = db.get_or_404(User, student_id)
    try:
        supervision.request_supervision(user, student)
    except InvalidInput as e:
        flash(str(e), "error")
    else:
        flash(f"Предложение отправлено: {student.full_name} ответит в личном кабинете.", "success")
    return redirect(url_for("accounts.students"), 303)


@bp.get("/account/teachers")
@login_required
def teachers():
    """Teachers of one's organization waiting for confirmation (for verified teachers).

    :raise 403: not a verified teacher or an administrator.
    """
    try:
        waiting = services.unverified_teachers(current_user, Pager.from_request())
    except PermissionDenied:
        abort(403)
    return render("accounts/teachers.html", teachers=waiting, button_form=BaseForm())


@bp.post("/account/teachers/<int:user_id>/verify")
@login_required
def verify_teacher(user_id: int):
    """Confirm a teacher of one's organization (or any, as an administrator).

    :raise 403: may not confirm this teacher. :raise 404: no such person.
    """
    _button_pressed()
    teacher = db.get_or_404(User, user_id)
    try:
        services.verify_teacher(current_user, teacher)
    except services.AccountError as e:
        flash(str(e), "error")
    else:
        flash(f"Педагог подтверждён: {teacher.full_name}.", "success")
    if request.form.get("back") == "admin":
        return redirect(url_for("admin.edit_user", user_id=teacher.id), 303)
    return redirect(url_for("accounts.teachers"), 303)


@bp.route("/account/edit", methods=["GET", "POST"])
@login_required
def edit_profile():
    """Correct one's own name; a student also sets the grade they are now in."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=user if request.method == "GET" else None)
    if request.method == "GET" and user.grade:
        form.grade.data = str(user.grade)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_profile(
                user,
                services.ProfileChanges(
                    last_name=form.last_name.data,
                    first_name=form.first_name.data,
                    middle_name=form.middle_name.data or "",
                    grade=int(form.grade.data) if form.grade.data else None,
                ),
            )
        except services.AccountError as e:
            field_error(form, e, default="last_name")
            status = 422
        else:
            flash("Данные профиля сохранены.", "success")
            return redirect(url_for("accounts.profile"), 303)
    elif request.method == "POST":
        status = 422
    return render("accounts/edit_profile.html", status=status, form=form, user=user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; other sessions end."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as e:
            field_error(form, e, default="current_password")
            status = 422
        else:
            # The version in the session changed with the password: log this session in anew.
            start_session(current_user._get_current_object())
            flash("Пароль изменён. На других устройствах нужно будет войти заново.", "success")
            return redirect(url_for("accounts.profile"), 303)
    elif request.method == "POST":
        status = 422
    return render("accounts/change_password.html", status=status, form=form)


@bp.route("/auth/reset", methods=["GET", "POST"])
def request_reset():
    """Ask for a password reset link by e-mail."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(
            "Если такой адрес зарегистрирован, на него отправлено письмо со ссылкой для смены пароля.",
            "info",
        )
        return redirect(url_for("accounts.login"), 303)
    return render("accounts/reset_request.html", status=422 if request.method == "POST" else 200, form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password with the link from the e-mail."""
    try:
        services.user_for_reset_token(token)
    except services.AccountError as e:
        flash(str(e), "error")
        return redirect(url_for("accounts.request_reset"), 303)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        flash("Пароль изменён. Войдите с новым паролем.", "success")
        return redirect(url_for("accounts.login"), 303)
    return render("accounts/reset_password.html", status=422 if request.method == "POST" else 200, form=form)

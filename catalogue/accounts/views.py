"""Registration, login and logout, the profile, password change and reset."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from catalogue.accounts import services
from catalogue.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from catalogue.accounts.models import Role
from catalogue.extensions import db
from catalogue.forms import choices, field_error
from catalogue.htmx import redirect_htmx_aware, render
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


def _start_session(user, remember: bool = False) -> None:
    # A fresh session at login: nothing from before survives (session fixation), new CSRF token.
    session.clear()
    login_user(user, remember=remember)
    session.permanent = True


@bp.route("/auth/register", methods=["GET", "POST"])
def register():
    """Register as a student or a teacher."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.profile"))
    form = RegistrationForm()
    form.municipality_id.choices = choices([(0, "— выберите —")] + [(m.id, m.name) for m in municipalities()])
    finding = "find_organization" in request.form  # the no-JavaScript organization search
    status = 200
    if request.method == "POST" and not finding and form.validate():
        try:
            user = services.register_user(
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
                    grade=int(form.grade.data) if form.grade.data else None,
                    birth_date=form.birth_date.data,
                )
            )
        except services.AccountError as e:
            field_error(form, e, default="email")
        else:
            _start_session(user)
            flash("Добро пожаловать! Учётная запись создана.", "success")
            return redirect(url_for("accounts.profile"), 303)
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
    )


@bp.route("/auth/login", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("accounts.profile"))
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
            _start_session(user, remember=form.remember.data)
            flash(f"Здравствуйте, {user.first_name}!", "success")
            return redirect(next_url or url_for("accounts.profile"), 303)
    elif request.method == "POST":
        status = 422
    return render("accounts/login.html", status=status, form=form, next_url=next_url)


@bp.post("/auth/logout")
def logout():
    """Log out and forget the session."""
    logout_user()
    session.clear()
    flash("Вы вышли из учётной записи.", "info")
    return redirect_htmx_aware(url_for("main.home"))


@bp.get("/account/")
@login_required
def profile():
    """The person's own account page."""
    return render("accounts/profile.html", user=current_user)


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
            _start_session(current_user._get_current_object())
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

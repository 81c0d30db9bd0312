"""/start: where people land after logging in."""

from flask import Blueprint
from flask_login import current_user, login_required

from catalogue.accounts import services as accounts
from catalogue.clock import local_today
from catalogue.contest.models import Phase
from catalogue.htmx import render
from catalogue.roles import Role
from catalogue.start import services
from catalogue.workflow import registry

bp = Blueprint("start", __name__)


@bp.get("/start")
@login_required
def index():
    """A section for each role of the person: what waits for them, and the way to it."""
    user = current_user._get_current_object()
    return render(
        "start/index.html",
        user=user,
        queue=services.queue_counts() if registry.is_moderator(user) else None,
        jury=services.jury_section(user) if user.has_role(Role.JURY) else None,
        student=services.student_section(user) if user.has_role(Role.STUDENT) else None,
        teacher=services.teacher_section(user) if user.has_role(Role.TEACHER) else None,
        admin=services.admin_section() if user.has_role(Role.ADMIN) else None,
        Phase=Phase,
        rows=services.ROWS,
        today=local_today(),
        verifiers=accounts.VERIFIERS_HINT,
    )

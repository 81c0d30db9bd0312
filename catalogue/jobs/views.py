"""The administrators' view of the queue: every job, newest first, a page at a time, optionally of one state."""

from flask import Blueprint, request
from sqlalchemy import select

from catalogue.accounts.models import Role
from catalogue.htmx import render
from catalogue.jobs.models import Job, JobState
from catalogue.pagination import Pager, paginate
from catalogue.permissions import role_required

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.get("/")
@role_required(Role.ADMIN)
def admin_list():
    """Jobs with their state, attempts, times and last error; ``?state=failed`` shows one state."""
    state = request.args.get("state", "")
    stmt = select(Job)
    if state in JobState.ALL:
        stmt = stmt.where(Job.state == state)
    else:
        state = ""
    page = paginate(stmt, [Job.created_at.desc(), Job.id.desc()], Pager.from_request())
    return render("jobs/admin_list.html", page=page, state=state, JobState=JobState)

"""The catalogue of typical projects, one project, its print version and PDF, and teachers' forms."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from catalogue import fragments
from catalogue.clock import local_today
from catalogue.formatting import ru_date
from catalogue.forms import apply_row_action, choices, field_error
from catalogue.htmx import is_fragment_request, render, trigger
from catalogue.idempotency import idempotent
from catalogue.media.forms import accept_uploads
from catalogue.pagination import FIRST_PAGE, Pager
from catalogue.pdf import pdf_response
from catalogue.permissions import InvalidInput
from catalogue.projects import documents, runs, services
from catalogue.projects.forms import CatalogueFilterForm, ProjectForm, ReportForm, RunForm, RunReportForm
from catalogue.taxonomy.services import age_groups, spheres
from catalogue.workflow import services as workflow

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.get("/")
def index():
    """Typical projects: age groups with counts, filters, one page of results."""
    pieces = fragments.cached("projects.index", fragments.query_key(), make=_catalogue_pieces)
    return render("projects/index.html", block="results", **pieces)


def catalogue_filters(
    args, pager: Pager = FIRST_PAGE
) -> tuple[CatalogueFilterForm, services.ProjectFilters, bool]:
    """The catalogue's filters read from ``args`` (the page and the API share them): the form, the filters, and
    whether every value was known (if not, the filters are empty)."""
    form = CatalogueFilterForm(args)
    form.age.choices = choices([("", "Все возрасты")] + [(g.slug, g.name) for g in age_groups()])
    form.sphere.choices = choices([("", "Все сферы")] + [(s.slug, s.name) for s in spheres()])
    filters = services.ProjectFilters(
        age=form.age.data or "",
        sphere=form.sphere.data or "",
        format=form.format.data or "",
        duration=form.duration.data or "",
        sort=form.sort.data or "new",
        pager=pager,
    )
    if not form.validate():
        return form, services.ProjectFilters(pager=pager), False
    return form, filters, True


def _catalogue_pieces() -> dict:
    """The catalogue's parts that are the same for everybody, rendered for the request's query string."""
    groups = age_groups()
    form, filters, _valid = catalogue_filters(request.args, Pager.from_request())  # unknown values: show everything
    context = dict(
        form=form,
        filters=filters,
        page=services.published_projects(filters),
        age_groups=groups,
        counts=services.published_counts_by_age_group(),
    )
    return fragments.render_each(
        context,
        age_tiles="projects/_age_tiles.html",
        filters_form="projects/_filters.html",
        results="projects/_results.html",
    )


@bp.get("/<int:project_id>")
@bp.get("/<int:project_id>-<slug>")
def detail(project_id: int, slug: str | None = None):
    """One typical project with its stages, reports and similar projects.

    :raise 404: no such project, or a draft of someone else.
    """
    person = current_user._get_current_object()
    project = services.get_project(person, project_id, only_row=True)
    if slug != project.slug:
        return redirect(url_for("projects.detail", project_id=project.id, slug=project.slug), 301)
    is_author = workflow.is_author(person, project)
    return render(
        "projects/detail.html",
        project=project,
        actions=workflow.actions_for(person, project),
        can_edit=is_author and project.is_editable,
        comment=workflow.latest_comment(project) if is_author else None,
        may_run=runs.may_run(person),
        **fragments.cached("projects.detail", project.id, _audience(project), make=lambda: _detail_pieces(project)),
    )


def _audience(project) -> str | None:
    uploaders = fragments.cached("projects.uploaders", project.id, make=lambda: frozenset(
        f.uploaded_by_id for f in services.attachments("project", project.id)))  # fmt: skip
    return fragments.audience(uploaders)


def _detail_pieces(project) -> dict:
    """The project's page without what depends on the person (checked above: they may see it)."""
    templates = {"body": "projects/_body.html"}
    context = dict(project=project, attached=services.attachments("project", project.id))
    if project.is_published:
        context |= dict(reports=services.published_reports(project), similar=services.similar_projects(project))
        templates |= dict(reports_list="projects/_reports.html", similar_list="projects/_similar.html")
        # Public content: a new run bumps the content generation, so the count kept here is never stale.
        return fragments.render_each(context, **templates) | {"run_counts": runs.run_counts(project.id)}
    return fragments.render_each(context, **templates)


@bp.get("/<int:project_id>-<slug>/print")
def print_version(project_id: int, slug: str):
    """A print-friendly version for taking the project into class.

    :raise 404: no such project, or not visible.
    """
    project = services.get_project(current_user, project_id)
    return render("projects/print.html", project=project, attached=services.attachments("project", project.id))


@bp.get("/<int:project_id>/pdf")
def pdf_version(project_id: int):
    """The project as a PDF file to download, for the same people who may see its page.

    :raise 404: no such project, or not visible.
    """
    project = services.get_project(current_user, project_id)
    filename, name = documents.filenames(project)
    return pdf_response(
        documents.project_pdf(project), filename, public=project.is_published, attachment=True, name=name
    )


def _project_form(project=None) -> ProjectForm:
    form = ProjectForm(obj=project if request.method == "GET" else None)
    if request.method == "GET" and project is not None:
        form.age_group_ids.data = [g.id for g in project.age_groups]
        form.sphere_ids.data = [s.id for s in project.spheres]
        while len(form.stages.entries):
            form.stages.pop_entry()
        for stage in project.stages:
            form.stages.append_entry({"title": stage.title, "description": stage.description})
    form.age_group_ids.choices = choices((g.id, g.name) for g in age_groups())
    form.sphere_ids.choices = choices((s.id, s.name) for s in spheres())
    return form


def _file_changes(field) -> dict:
    """The files a form adds (uploaded with it or kept from a failed send) and removes (ticked «Удалить»)."""
    return {"attach": [f.key for f in field.pending], "detach": request.form.getlist("detach")}


def _edit_page(form, project=None, status=200):
    attached = services.attachments("project", project.id) if project else []
    return render("projects/form.html", block="stages", status=status, form=form, project=project, attached=attached)


def _save(form: ProjectForm, project=None):
    """Shared by create and edit: uploads, stage buttons, validation, the service call."""
    # Files are kept as pending uploads on every full-page POST, so a failed submit loses none.
    # (An htmx stage button leaves the file input untouched in the page: nothing to store then.)
    # Uploads are taken after validate(), which would otherwise clear their errors.
    if request.method == "POST" and apply_row_action(
        form.stages, request.form.get("stage_action", ""), services.MAX_STAGES
    ):
        if not is_fragment_request():
            accept_uploads(form.attachments, current_user)
        return _edit_page(form, project)
    valid = form.validate_on_submit()
    if request.method == "POST":
        accept_uploads(form.attachments, current_user)
    if valid and not form.attachments.errors:
        data = form.project_data(**_file_changes(form.attachments))
        try:
            if project is None:
                project = services.create_project(current_user, data)
                flash("Черновик проекта сохранён. Когда будет готов — отправьте его на проверку.", "success")
            else:
                services.update_project(current_user, project, data)
                flash("Изменения сохранены.", "success")
        except InvalidInput as e:
            field_error(form, e)
        else:
            return redirect(url_for("projects.detail", project_id=project.id, slug=project.slug), 303)
    return _edit_page(form, project, status=422 if request.method == "POST" else 200)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@idempotent
def create():
    """A teacher writes a new typical project (saved as a draft)."""
    services.ensure_teacher(current_user)
    return _save(_project_form())


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int):
    """The author edits a draft or a project returned for changes.

    :raise 404: not visible. :raise 403: not the author. :raise 409: under review or decided.
    """
    project = services.get_project(current_user, project_id)
    workflow.ensure_can_edit(current_user, project)
    return _save(_project_form(project), project)


@bp.get("/mine")
@login_required
def mine():
    """A teacher's own projects and reports, with their states."""
    services.ensure_teacher(current_user)
    return render(
        "projects/mine.html",
        projects=services.projects_of(current_user, Pager.from_request()),
        reports=services.reports_of(current_user, Pager.from_request("reports_")),
    )


# -- reports ----------------------------------------------------------------------------------------


@bp.route("/<int:project_id>/reports/new", methods=["GET", "POST"])
@login_required
@idempotent
def report_create(project_id: int):
    """A teacher posts how their class carried out this project; ``?run=`` starts it from one of their classes."""
    services.ensure_teacher(current_user)
    project = services.get_project(current_user, project_id, with_stages=False)
    if not project.is_published:
        abort(404)
    classes = runs.open_runs(current_user, project)
    chosen = next((r for r in classes if str(r.id) == request.args.get("run")), None)
    # The grade the project is meant for is the likely one: the first grade of its youngest age group.
    form = RunReportForm(grade=runs.default_grade(project))
    if chosen is not None and request.method == "GET":
        form = RunReportForm(
            run_id=chosen.id,
            class_name=chosen.class_label,
            grade=chosen.grade,
            started_on=chosen.started_on,
            participants=chosen.pupils,
        )
    form.run_id.choices = choices(
        [("", "— не указывать —")] + [(r.id, f"{r.class_label}, с {ru_date(r.started_on)}") for r in classes]
    )
    valid = form.validate_on_submit()
    if form.is_submitted():
        accept_uploads(form.photos, current_user)
    if valid and not form.photos.errors:
        data = form.report_data(**_file_changes(form.photos))
        data.run_id = form.run_id.data
        try:
            report = services.create_report(current_user, project, data)
        except InvalidInput as e:
            field_error(form, e)
        else:
            flash("Отчёт сохранён как черновик. Отправьте его на проверку, когда будет готов.", "success")
            return redirect(url_for("projects.report", report_id=report.id), 303)
    status = 422 if request.method == "POST" else 200
    return render("projects/report_form.html", status=status, form=form, project=project, report=None, attached=[])


@bp.get("/reports/<int:report_id>")
def report(report_id: int):
    """One class's report on a typical project.

    :raise 404: no such report, or not visible.
    """
    item = services.get_report(current_user, report_id)
    return render(
        "projects/report.html",
        report=item,
        run=runs.run_of_report(item),
        photos=services.attachments("report", item.id),
        actions=workflow.actions_for(current_user, item),
        can_edit=workflow.is_author(current_user, item) and item.is_editable,
        comment=workflow.latest_comment(item) if workflow.is_author(current_user, item) else None,
    )


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@login_required
def report_edit(report_id: int):
    """The author edits a draft report or one returned for changes."""
    item = services.get_report(current_user, report_id)
    workflow.ensure_can_edit(current_user, item)
    form = ReportForm(obj=item if request.method == "GET" else None)
    valid = form.validate_on_submit()
    if form.is_submitted():
        accept_uploads(form.photos, current_user)
    if valid and not form.photos.errors:
        try:
            services.update_report(current_user, item, form.report_data(**_file_changes(form.photos)))
        except InvalidInput as e:
            field_error(form, e)
        else:
            flash("Изменения сохранены.", "success")
            return redirect(url_for("projects.report", report_id=item.id), 303)
    status = 422 if request.method == "POST" else 200
    return render(
        "projects/report_form.html",
        status=status,
        form=form,
        project=item.project,
        report=item,
        attached=services.attachments("report", item.id),
    )


# -- «Взять в работу» -------------------------------------------------------------------------------


def _published_project(project_id: int):
    """:raise 404: not visible, or not published (only a published project is taken into class)."""
    project = services.get_project(current_user, project_id, with_stages=False)
    if not project.is_published:
        abort(404)
    return project


def _run_page(form: RunForm, project, run=None, done=None, status: int = 200):
    """The form (or, after it, the confirmation) in place of the project page's «Взять в работу», or a whole page."""
    return render(
        "projects/run_form.html",
        block="runs",
        status=status,
        form=form,
        project=project,
        run=run,
        done=done,
        run_counts=runs.run_counts(project.id),
        may_run=True,
    )


@bp.route("/<int:project_id>/runs/new", methods=["GET", "POST"])
@login_required
def run_create(project_id: int):
    """A teacher records that a class of their school runs this project: class, grade, start, pupils.

    :raise 403: not a teacher. :raise 404: not a published project. Answers 422 with the form for bad input.
    """
    if not runs.may_run(current_user):
        abort(403)
    project = _published_project(project_id)
    form = RunForm()
    if request.method == "GET":
        form.grade.data = runs.default_grade(project)
        form.started_on.data = local_today()
    if form.validate_on_submit():
        try:
            run = runs.take_into_class(current_user, project, form.run_data())
        except InvalidInput as e:
            field_error(form, e)
        else:
            message = (
                f"Записали: класс {run.class_label} проводит проект с {ru_date(run.started_on)}. "
                f"{ru_date(run.due_on)} напомним об отчёте."
            )
            if is_fragment_request():
                return trigger(_run_page(form, project, done=message), flash_message=message)
            flash(message, "success")
            return redirect(url_for("projects.detail", project_id=project.id, slug=project.slug, _anchor="runs"), 303)
    return _run_page(form, project, status=422 if request.method == "POST" else 200)


@bp.route("/runs/<int:run_id>/edit", methods=["GET", "POST"])
@login_required
def run_edit(run_id: int):
    """The teacher corrects their class's record.

    :raise 404: no such run, or somebody else's.
    """
    run = runs.get_own_run(current_user, run_id)
    form = RunForm(obj=run if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            runs.update_run(current_user, run, form.run_data())
        except InvalidInput as e:
            field_error(form, e)
        else:
            flash("Изменения сохранены.", "success")
            return redirect(url_for("projects.runs_mine"), 303)
        run = runs.get_own_run(current_user, run_id)
    status = 422 if request.method == "POST" else 200
    return render("projects/run_form.html", status=status, form=form, project=run.project, run=run)


@bp.post("/runs/<int:run_id>/delete")
@login_required
def run_delete(run_id: int):
    """The teacher removes their class's record (a report linked to it stays).

    :raise 404: no such run, or somebody else's.
    """
    run = runs.get_own_run(current_user, run_id)
    label, title = run.class_label, run.project.title
    runs.delete_run(current_user, run)
    flash(f"Запись о классе {label} по проекту «{title}» удалена.", "success")
    return redirect(url_for("projects.runs_mine"), 303)


@bp.get("/classes")
@login_required
def runs_mine():
    """«Мои классы»: the teacher's classes running projects, with their states and the way to the report."""
    if not runs.may_run(current_user):
        abort(403)
    return render("projects/runs.html", page=runs.runs_of(current_user, Pager.from_request()), today=local_today())

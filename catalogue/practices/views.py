"""Best practices: the catalogue, one practice and its PDF, forms and revisions, adoption marks, the report."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from catalogue import fragments
from catalogue.accounts.models import Role
from catalogue.clock import local_today
from catalogue.exports import csv_download
from catalogue.forms import apply_row_action, choices, field_error, optional_int
from catalogue.htmx import is_fragment_request, render, trigger
from catalogue.idempotency import idempotent
from catalogue.media import services as media
from catalogue.media.forms import accept_uploads
from catalogue.pagination import FIRST_PAGE, Pager
from catalogue.pdf import pdf_response
from catalogue.permissions import Conflict, InvalidInput, PermissionDenied
from catalogue.practices import csv_export, documents, services
from catalogue.practices.forms import AdoptionForm, CatalogueFilterForm, PracticeForm
from catalogue.practices.roadmap import BY_NUMBER
from catalogue.taxonomy.services import municipalities, organizations_by_municipality, spheres
from catalogue.workflow import registry
from catalogue.workflow import services as workflow

bp = Blueprint("practices", __name__, url_prefix="/practices")


@bp.app_template_global("practice_attachments")
def practice_attachments(practice):
    """For the moderator's preview: the practice's files."""
    return services.attachments(practice)


@bp.app_template_global("practice_revision_changes")
def practice_revision_changes(revision):
    """For the moderator's review page: what a revision changes, field by field."""
    return services.revision_changes(revision)


def _int_arg(value: str | None, allowed) -> int | None:
    number = optional_int(value)
    return number if number in allowed else None


# -- the catalogue ----------------------------------------------------------------------------------


@bp.get("/")
def index():
    """Published practices: filters, sort, one page of results."""
    pieces = fragments.cached("practices.index", fragments.query_key(), make=_catalogue_pieces)
    return render("practices/index.html", block="results", **pieces)


def catalogue_filters(
    args, pager: Pager = FIRST_PAGE
) -> tuple[CatalogueFilterForm, services.PracticeFilters, bool]:
    """The catalogue's filters read from ``args`` (the page and the API share them): the form, the filters, and
    whether every value was known (if not, the filters are empty)."""
    places = municipalities()
    form = CatalogueFilterForm(args)
    form.municipality.choices = choices([("", "Все муниципалитеты")] + [(str(m.id), m.name) for m in places])
    form.sphere.choices = choices([("", "Все сферы")] + [(s.slug, s.name) for s in spheres()])
    if not form.validate():
        return form, services.PracticeFilters(pager=pager), False
    filters = services.PracticeFilters(
        item=_int_arg(form.item.data, BY_NUMBER),
        municipality=_int_arg(form.municipality.data, {m.id for m in places}),
        grade=_int_arg(form.grade.data, range(6, 12)),
        sphere=form.sphere.data or "",
        sort=form.sort.data or "new",
        pager=pager,
    )
    return form, filters, True


def _catalogue_pieces() -> dict:
    """The catalogue's parts that are the same for everybody, rendered for the request's query string."""
    form, filters, _valid = catalogue_filters(request.args, Pager.from_request())  # unknown values: show everything
    context = dict(form=form, filters=filters, page=services.published_practices(filters))
    return fragments.render_each(context, filters_form="practices/_filters.html", results="practices/_results.html")


@bp.get("/<int:practice_id>")
@bp.get("/<int:practice_id>-<slug>")
def detail(practice_id: int, slug: str | None = None):
    """One practice, laid out for someone who wants to repeat it; adoption marks; revision history.

    :raise 404: no such practice, or a draft of someone else.
    """
    practice = services.get_practice(current_user, practice_id, only_row=True)
    if slug != practice.slug:
        return redirect(services.practice_url(practice), 301)
    return _detail_page(practice)


def _detail_page(practice, adoption_form: AdoptionForm | None = None, status: int = 200, block: str | None = None):
    """The practice's page, or its ``block``; ``adoption_form``: the «Внедрили у себя» form as it was posted (with
    its errors), None for a fresh one."""
    person = current_user._get_current_object()
    signed_in = person.is_authenticated
    is_author = workflow.is_author(person, practice)
    facts = fragments.cached("practices.facts", practice.id, make=lambda: services.practice_facts(practice))
    return render(
        "practices/detail.html",
        block=block,
        status=status,
        practice=practice,
        body=fragments.rendered("practices.detail", "practices/_body.html", practice.id, _audience(practice),
                                context=lambda: dict(practice=practice, attachments=services.attachments(practice))),
        actions=workflow.actions_for(person, practice),
        can_edit=is_author and practice.is_editable,
        can_revise=services.may_revise(person, practice),
        comment=workflow.latest_comment(practice) if is_author else None,
        history=facts.history,
        pending=_pending(person, practice, facts),
        adoptions=_adoptions(practice) if practice.is_published else None,
        adoption_form=adoption_form,
        adoption_fields=lambda: _adoption_fields(adoption_form),
        adopted_on=facts.adopted_on.get(person.organization_id) if signed_in else None,
        may_adopt=signed_in and person.has_role(Role.TEACHER, Role.ADMIN),
        adoption_refusal=services.adoption_refusal(person, practice) if signed_in else None,
    )


def _adoption_fields(form: AdoptionForm | None):
    """The form's fields as posted, or a fresh form's: the same for everybody but the token, so kept (its date is
    today, and the pieces' keys hold the day)."""
    if form is not None:
        return fragments.render_each(dict(form=form), html="practices/_adoption_fields.html")["html"]
    return fragments.with_token("practices.adoption_fields", "practices/_adoption_fields.html", context=lambda: dict(
        form=AdoptionForm(formdata=None, meta={"csrf": False}, adopted_on=local_today())))  # fmt: skip


def _adoptions(practice):
    """The organizations that adopted ``practice``, the same for everybody."""
    return fragments.rendered("practices.adoptions", "practices/_adoptions.html", practice.id, context=lambda: dict(
        practice=practice, municipalities_adopted=services.adopted_municipalities(practice)))  # fmt: skip


def _pending(person, practice, facts: services.PracticeFacts):
    """The revision not yet decided, for those who may see it (its author, the practice's, moderators): only
    they cost a query for it."""
    if facts.pending_author_id is None or not person.is_authenticated:
        return None
    if not (registry.is_moderator(person) or person.id in (facts.pending_author_id, practice.author_id)):
        return None
    pending = services.open_revision(practice)
    return pending if pending is not None and workflow.can_view(person, pending) else None


def _audience(practice) -> str | None:
    uploaders = fragments.cached("practices.uploaders", practice.id, make=lambda: frozenset(
        f.uploaded_by_id for f in services.attachments(practice)))  # fmt: skip
    return fragments.audience(uploaders)


@bp.get("/<int:practice_id>/pdf")
def pdf_version(practice_id: int):
    """The practice as a PDF file to download, for the same people who may see its page.

    A published practice gives the version now shown: a revision waiting for review is not in it.

    :raise 404: no such practice, or not visible.
    """
    practice = services.get_practice(current_user, practice_id)
    filename, name = documents.filenames(practice)
    return pdf_response(
        documents.practice_pdf(practice), filename, public=practice.is_published, attachment=True, name=name
    )


@bp.post("/<int:practice_id>/adopt")
@login_required
def adopt(practice_id: int):
    """A teacher marks «внедрили у себя» for their organization.

    :raise 404: not visible. :raise 403: not a teacher.
    Answers 422 for bad input and 409 when the organization has marked it already, with the form.
    """
    practice = services.get_practice(current_user, practice_id)
    form = AdoptionForm()
    status = 422
    if form.validate_on_submit():
        try:
            services.adopt(current_user, practice, services.AdoptionData(form.adopted_on.data, form.comment.data or ""))
        except InvalidInput as e:
            field_error(form, e)
        except Conflict as e:
            form.form_errors.append(str(e))
            status = 409
        else:
            message = "Спасибо! Внедрение отмечено: практика показывает вашу организацию."
            if is_fragment_request():
                practice = services.get_practice(current_user, practice_id)
                response = _detail_page(practice, block="adoption")
                return trigger(response, flash_message=message)
            flash(message, "success")
            return redirect(services.practice_url(practice, _anchor="adoption"), 303)
    return _detail_page(practice, form, status=status, block="adoption")


# -- writing and revising ---------------------------------------------------------------------------


def _organization_choices() -> list[SelectChoice]:
    rows = organizations_by_municipality()
    return [SelectChoice("", "— выберите организацию —")] + [
        SelectChoice(str(o.id), o.name, optgroup=o.municipality.name) for o in rows
    ]


def _form_values(data: services.PracticeData) -> dict:
    values = data.to_json()
    values["period_from"] = data.period_from
    values["period_to"] = data.period_to
    values["steps"] = [{"title": s.title, "description": s.description} for s in data.steps] or [{}]
    return values


def _practice_form(initial: dict | None = None) -> PracticeForm:
    form = PracticeForm(data=initial) if request.method == "GET" and initial else PracticeForm()
    form.organization_id.choices = _organization_choices()
    form.sphere_ids.choices = choices((s.id, s.name) for s in spheres())
    return form


def _valid(form: PracticeForm) -> bool:
    """The form's own checks, and an organization from the list (its choices carry an empty first option)."""
    valid = form.validate_on_submit()
    if request.method == "POST" and not form.organization_id.errors:
        known = {c.value for c in form.organization_id.choices if c.value}
        if str(form.organization_id.data) not in known:
            form.organization_id.errors = ["Выберите организацию из списка."]
            return False
    return valid


def _attached(practice, revision) -> list[tuple]:
    """Files already attached (the practice's, and an open revision's), each with its «remove» box state."""
    if practice is None:
        return []
    if request.method == "POST":
        removing = set(request.form.getlist("remove_file"))
    else:
        removing = set((revision.data.get("files_removed") if revision else None) or [])
    files = services.attachments(practice) + (services.revision_files(revision) if revision else [])
    return [(f, f.key in removing) for f in files]


def _edit_page(form, practice=None, revision=None, revising: bool = False, status: int = 200):
    return render(
        "practices/form.html",
        block="steps",
        status=status,
        form=form,
        practice=practice,
        revising=revising,
        attached=_attached(practice, revision),
    )


def _file_changes(form: PracticeForm, held) -> services.FileChanges:
    return services.FileChanges(add=[f.key for f in held], remove=request.form.getlist("remove_file"))


def _save(form: PracticeForm, practice=None, revision=None, revising: bool = False):
    """Shared by create, edit and revise: step buttons, uploads kept as pending, validation, the service call."""
    if request.method != "POST":
        return _edit_page(form, practice, revision, revising)
    step_pressed = apply_row_action(form.steps, request.form.get("step_action", ""), services.MAX_STEPS)
    valid = not step_pressed and _valid(form)
    held = accept_uploads(form.attachments, current_user)  # after validate(): it resets the field's errors
    if step_pressed:
        return _edit_page(form, practice, revision, revising)
    if valid and not form.attachments.errors:
        data, files = form.practice_data(), _file_changes(form, held)
        try:
            if practice is None:
                practice = services.create_practice(current_user, data, files)
                flash("Черновик практики сохранён. Когда будет готов — отправьте его на проверку.", "success")
            elif revising:
                revision = services.revise_practice(current_user, practice, data, form.note.data or "", files)
                flash(
                    "Правка сохранена. Отправьте её на проверку: до решения модератора на сайте остаётся "
                    "опубликованная версия.",
                    "success",
                )
                return redirect(url_for("practices.revision", revision_id=revision.id), 303)
            else:
                services.update_practice(current_user, practice, data, files)
                flash("Изменения сохранены.", "success")
        except InvalidInput as e:
            field_error(form, e)
            # The service rolled back: what is still pending comes back to the form
            form.attachments.pending = media.pending_files(current_user, [f.key for f in held])
        else:
            return redirect(services.practice_url(practice), 303)
    return _edit_page(form, practice, revision, revising, status=422)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@idempotent
def create():
    """A teacher describes a practice of their school (saved as a draft)."""
    services.ensure_can_propose(current_user)
    initial = {"organization_id": current_user.organization_id, "steps": [{}]}
    return _save(_practice_form(initial))


@bp.route("/<int:practice_id>/edit", methods=["GET", "POST"])
@login_required
def edit(practice_id: int):
    """Edit a draft; for a published practice, write a revision that goes through review.

    :raise 404: not visible. :raise 403: not the author (nor, for a revision, a moderator).
    :raise 409: under review, or someone else's revision is open.
    """
    practice = services.get_practice(current_user, practice_id)
    if not practice.is_published:
        workflow.ensure_can_edit(current_user, practice)
        return _save(_practice_form(_form_values(services.PracticeData.of(practice))), practice)
    if not services.may_revise(current_user, practice):
        raise PermissionDenied
    revision = services.open_revision(practice)
    if revision is not None and revision.author_id != current_user.id:
        raise Conflict("К этой практике уже предложена правка; дождитесь решения по ней.")
    if revision is not None and not revision.is_editable:
        flash("Ваша правка уже на проверке. Изменить её можно, если модератор вернёт её на доработку.", "info")
        return redirect(url_for("practices.revision", revision_id=revision.id), 303)
    data = services.PracticeData.from_json(revision.data) if revision else services.PracticeData.of(practice)
    initial = _form_values(data)
    initial["note"] = revision.note if revision else ""
    return _save(_practice_form(initial), practice, revision, revising=True)


@bp.get("/revisions/<int:revision_id>")
@login_required
def revision(revision_id: int):
    """A proposed change to a practice: what it changes, its state and the author's buttons.

    :raise 404: no such revision, or neither its author nor a moderator.
    """
    item = services.get_revision(current_user, revision_id)
    is_author = workflow.is_author(current_user, item)
    return render(
        "practices/revision.html",
        revision=item,
        changes=services.revision_changes(item),
        actions=workflow.actions_for(current_user, item),
        can_edit=is_author and item.is_editable and item.practice.is_published,
        comment=workflow.latest_comment(item) if is_author else None,
    )


@bp.get("/mine")
@login_required
def mine():
    """A teacher's own practices and proposed revisions, with their states."""
    services.ensure_can_propose(current_user)
    return render(
        "practices/mine.html",
        practices=services.practices_of(current_user, Pager.from_request()),
        revisions=services.revisions_by(current_user, Pager.from_request("revisions_")),
    )


# -- the moderators' report -------------------------------------------------------------------------


@bp.get("/report")
@login_required
def report():
    """Adoptions by municipality and by practice (moderators).

    :raise 403: not a moderator.
    """
    report = services.adoption_report(current_user, Pager.from_request("practices_"), Pager.from_request())
    return render("practices/report.html", report=report)


@bp.get("/report.csv")
@login_required
def report_csv():
    """The report as CSV for Excel: ``?by=municipality|practice`` or every adoption (default).

    :raise 403: not a moderator.
    """
    data = services.adoption_report(current_user, practices_pager=None, adoptions_pager=None)
    by = request.args.get("by", "adoptions")
    if by not in csv_export.REPORTS:
        abort(404)
    filename = f"practices-{by}-{local_today().isoformat()}.csv"
    return csv_download(csv_export.REPORTS[by](data), filename)

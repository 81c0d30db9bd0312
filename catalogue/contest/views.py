"""The contest's public pages (seasons, gallery, results, entries, documents) and the students' pages."""

from flask import Blueprint, Response, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import OperationalError

from catalogue.accounts import supervision
from catalogue.accounts.models import Role
from catalogue.contest import collection as collection_job
from catalogue.contest import documents, entries, parental, results, seasons, units
from catalogue.contest.forms import (
    ActionForm,
    ConsentCheckForm,
    ConsentForm,
    ConsentScanForm,
    EntryForm,
    GalleryFilterForm,
    ParentConsentForm,
)
from catalogue.contest.models import Award, ConsentKind, Entry, Phase, Season
from catalogue.extensions import db
from catalogue.forms import choices, field_error
from catalogue.htmx import render
from catalogue.idempotency import idempotent
from catalogue.media import services as media
from catalogue.media import storage
from catalogue.media.forms import accept_uploads
from catalogue.media.names import file_label, public_name
from catalogue.media.views import file_url
from catalogue.pagination import FIRST_PAGE, Pager
from catalogue.permissions import Conflict, InvalidInput, NotFound
from catalogue.web import CONTENT_SECURITY_POLICY, int_arg
from catalogue.workflow import services as workflow

bp = Blueprint("contest", __name__, url_prefix="/contest")

# model-viewer puts one <style> element into its shadow root. The CSP allows exactly that stylesheet by its
# hash (checked against the vendored file by the tests), on the pages that show a model, and nothing else.
VIEWER_STYLE_HASH = "sha256-PXtZZkJMMyc18o/DN1ZEFOJ2qEGq95IQbVaJFMOXOb0="
VIEWER_CSP = CONTENT_SECURITY_POLICY.replace("style-src 'self'", f"style-src 'self' '{VIEWER_STYLE_HASH}'")


def with_viewer(response: Response) -> Response:
    """A page that shows a 3D model: the CSP also admits the viewer's own stylesheet."""
    response.headers["Content-Security-Policy"] = VIEWER_CSP
    return response


def full_page_for_viewer() -> Response | None:
    """For a boosted navigation, an instruction to load the page whole instead, else None.

    Boosted navigation swaps only the body, so a page with the viewer would come without its scripts
    (which the CSP keeps out of swapped content) and without its CSP; htmx follows ``HX-Redirect`` with a
    full page load.
    """
    if request.method == "GET" and request.htmx and request.htmx.boosted:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = request.full_path if request.query_string else request.path
        return response
    return None


def season_or_404(year: int) -> Season:
    """:raise 404: no season of that year."""
    try:
        return seasons.season_by_year(year)
    except NotFound:
        abort(404)


# -- public ---------------------------------------------------------------------------------------


@bp.get("/")
def index():
    """The contest: the current season with its phase, and every season."""
    every = seasons.all_seasons(structure=False)
    return render(
        "contest/index.html",
        current=seasons.current_season(among=every),
        all_seasons=every,
        Phase=Phase,
    )


def gallery_filters(
    season: Season, args, pager: Pager = FIRST_PAGE
) -> tuple[GalleryFilterForm, entries.GalleryFilters, bool]:
    """The gallery's filters read from ``args`` (the page and the API share them): the form, the filters, and
    whether every value was known (if not, the filters are empty)."""
    form = GalleryFilterForm(args)
    form.nomination.choices = choices([("", "Все номинации")] + [(n.id, n.name) for n in season.nominations])
    form.age.choices = choices([("", "Все категории")] + [(c.id, c.name) for c in season.age_categories])
    form.municipality.choices = choices(
        [("", "Все муниципалитеты")] + [(m.id, m.name) for m in entries.gallery_municipalities(season)]
    )
    if not form.validate():
        return form, entries.GalleryFilters(pager=pager), False
    filters = entries.GalleryFilters(
        nomination=form.nomination.data, age=form.age.data, municipality=form.municipality.data, pager=pager
    )
    return form, filters, True


def gallery_form(season: Season, args=None) -> tuple[GalleryFilterForm, entries.GalleryFilters]:
    """The gallery's filter form and filters, read from ``args`` (the feed's and subscriptions'), or from the
    request with its page; unknown values show everything."""
    if args is None:
        form, filters, _valid = gallery_filters(season, request.args, Pager.from_request())
    else:
        form, filters, _valid = gallery_filters(season, args)
    return form, filters


@bp.get("/<int:year>/")
def season(year: int):
    """A season: its phase and dates, rules, nominations, categories, criteria and the gallery.

    :raise 404: no season of that year.
    """
    item = season_or_404(year)
    form, filters = gallery_form(item)
    return render(
        "contest/season.html",
        block="gallery",
        season=item,
        form=form,
        filters=filters,
        page=entries.gallery(item, filters),
        Phase=Phase,
        collection=collection_job.built(item),
    )


@bp.get("/<int:year>/results")
def season_results(year: int):
    """The published results of a season (or when they will be announced): the first places of every nomination
    and age category, and with ``?nomination=<id>&age=<id>`` all of one, a page at a time.

    :raise 404: no season of that year.
    """
    item = season_or_404(year)
    groups = results.awarded_groups(item) if item.results_published else []
    nomination = next((n for n in item.nominations if n.id == int_arg("nomination")), None)
    category = next((c for c in item.age_categories if c.id == int_arg("age")), None)
    page = None
    if groups and nomination is not None and category is not None:
        page = results.awarded_page(item, nomination, category, Pager.from_request())
    return render(
        "contest/results.html",
        season=item,
        groups=groups,
        nomination=nomination,
        category=category,
        page=page,
        tie_rule=results.TIE_RULE,
        Award=Award,
        collection=collection_job.built(item) if item.results_published else None,
    )


@bp.get("/<int:year>/collection.pdf")
def collection(year: int):
    """The season's collection of materials as a PDF: the file of the newest completed build, served as a static
    file. Never rendered here: before the first build the page says «Сборник готовится» (and queues that build).

    :raise 404: no season of that year, or nothing admitted yet.
    """
    item = season_or_404(year)
    made = collection_job.built(item)
    if made is None:
        if not collection_job.has_admitted(item):
            abort(404)
        if collection_job.needs_build(item):
            try:
                collection_job.queue_build(item)
                db.session.commit()
            except OperationalError:  # the database busy with a writer: the next visit queues it
                db.session.rollback()
        response = make_response(render("contest/collection_pending.html", season=item), 200)
        response.headers["Retry-After"] = "300"
        return response
    name = f"sozdatel-{item.year}-sbornik.pdf"
    accel = current_app.config.get("COLLECTION_X_ACCEL_PREFIX")
    if accel:  # nginx serves the file itself (an internal location aliasing the collections folder)
        response = documents.pdf_response(b"", name, public=True)
        response.headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + made.file_name
        response.last_modified = made.built_at
        return response
    try:
        response = storage.send(made.name, "application/pdf", etag=True, last_modified=made.built_at, max_age=300)
    except FileNotFoundError:  # replaced by a newer build meanwhile
        abort(404)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; img-src 'self' data:"
    return response


@bp.get("/entries/<int:entry_id>")
def entry(entry_id: int):
    """One entry: the model in the viewer, pictures, description, facts; for its authors also state and actions.

    :raise 404: no such entry, or not visible to this person.
    """
    item = entries.get_entry(current_user, entry_id)
    if (reload := full_page_for_viewer()) is not None:
        return reload
    is_author = workflow.is_author(current_user, item)
    response = render(
        "contest/entry.html",
        entry=item,
        season=item.season,
        images=entries.images_of(item),
        show_author=entries.show_author(current_user, item),
        is_author=is_author,
        actions=workflow.actions_for(current_user, item),
        can_edit=is_author and item.is_editable,
        comment=workflow.latest_comment(item) if is_author else None,
        refusal=_submit_refusal(item) if is_author else None,
        consent_form=_consent_form(item) if is_author else None,
        parental_request=parental.current_request(item) if is_author else None,
        needs_representative=is_author and entries.needs_representative(item.author),
        scan_form=ConsentScanForm() if is_author else None,
        action_form=ActionForm(),
        may_withdraw_consent=is_author or workflow.registry.is_moderator(current_user),
        diploma=_may_get_diploma(item),
    )
    return with_viewer(response)


def _submit_refusal(item: Entry) -> str | None:
    """Why the author cannot send the entry now (shown instead of a missing button)."""
    if not item.is_editable:
        return None
    return workflow.registry.of(item).refused(current_user, item, "submit")


def _may_get_diploma(item: Entry) -> bool:
    if not (item.award and item.season.results_published and current_user.is_authenticated):
        return False
    return workflow.is_author(current_user, item) or current_user.has_role(Role.ADMIN)


@bp.get("/entries/<int:entry_id>/diploma.pdf")
@login_required
def diploma(entry_id: int):
    """The winner's or prize-winner's diploma, or the participant's certificate (authors and administrators).

    :raise 404: no such entry, no published award, or not this person's.
    """
    item = entries.get_entry(current_user, entry_id)
    if not _may_get_diploma(item):
        abort(404)
    name = documents.diploma_file(item)
    if not storage.backend().exists(name):  # rendered by a background job, never here
        try:
            documents.queue_diploma(item)
            db.session.commit()
        except OperationalError:  # the database busy with a writer: the next request queues it
            db.session.rollback()
        response = make_response(render("contest/diploma_pending.html", entry=item), 200)
        response.headers["Retry-After"] = "10"
        return response
    try:
        response = storage.send(name, "application/pdf", etag=True, max_age=0)
    except FileNotFoundError:  # replaced by a newer version meanwhile
        abort(404)
    response.headers["Content-Disposition"] = f'inline; filename="sozdatel-{item.season.year}-{item.id}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; img-src 'self' data:"
    return response


# -- students and supervising teachers ------------------------------------------------------------


def _ensure_participant() -> None:
    """:raise 403: neither a student nor a teacher."""
    if not current_user.has_role(Role.STUDENT, Role.TEACHER):
        abort(403)


@bp.get("/mine")
@login_required
def mine():
    """A student's entries, or the entries a teacher supervises, with their states."""
    _ensure_participant()
    return render(
        "contest/mine.html",
        page=entries.entries_of(current_user, Pager.from_request()),
        current=seasons.current_season(),
        Phase=Phase,
    )


def _student_of_form(form: EntryForm, item: Entry | None):
    if item is not None:
        return item.author
    if current_user.has_role(Role.STUDENT):
        return current_user
    if form.student_id.data:
        student = next((s for s in entries.students_of(current_user) if s.id == form.student_id.data), None)
        return student
    return None


def _prepare_entry_form(form: EntryForm, season: Season, item: Entry | None):
    form.nomination_id.choices = choices((n.id, n.name) for n in season.nominations)
    form.age_category_id.choices = choices((c.id, c.label) for c in season.age_categories)
    teacher_makes = item is None and not current_user.has_role(Role.STUDENT)
    if teacher_makes:
        # Full names, of the teacher's own organization only: a verified teacher picks their own students.
        form.student_id.choices = choices(
            [("", "— выберите обучающегося —")]
            + [(s.id, f"{s.full_name}, {s.grade or '?'} класс") for s in entries.students_of(current_user)]
        )
    student = _student_of_form(form, item)
    if request.method == "GET" and item is None and student is not None:
        category = next((c for c in season.age_categories if c.includes_grade(student.grade)), None)
        form.age_category_id.data = category.id if category else None
    options = entries.supervisor_options(student or current_user, form.supervisor_query.data or "")
    chosen = form.supervisor_id.data
    if chosen and all(o.id != chosen for o in options):
        extra = entries.supervisor_options(student or current_user, "", limit=500)
        options = [o for o in extra if o.id == chosen] + options
    return student, teacher_makes, options


def _entry_page(form, season, item, status=200):
    """The form page; choices are set again, since a supervisor search or the student may have changed."""
    student, teacher_makes, options = _prepare_entry_form(form, season, item)
    # The model just uploaded, else the entry's: an STL or OBJ of an unlikely size gets the units that fit.
    model = form.model.pending[0] if form.model.pending else (item.model_file if item else None)
    return render(
        "contest/entry_form.html",
        status=status,
        form=form,
        season=season,
        entry=item,
        student=student,
        teacher_makes=teacher_makes,
        supervisors=options,
        needs_representative=entries.needs_representative(student) if student else True,
        images=entries.images_of(item) if item else [],
        ask_consent=item is None or not (item.consents_complete or parental.open_request(item)),
        unit_suggestion=units.suggestion(model.facts if model else None),
    )


def _entry_data(form: EntryForm) -> entries.EntryData:
    return entries.EntryData(
        nomination_id=form.nomination_id.data,
        age_category_id=form.age_category_id.data,
        title=form.title.data or "",
        description=form.description.data or "",
        software=form.software.data or "",
        coauthors=form.coauthors.data or "",
        supervisor_id=form.supervisor_id.data,
        model_unit=form.model_unit.data or "mm",
    )


def _consent_data(form) -> entries.ConsentData:
    return entries.ConsentData(
        processing=bool(form.consent_processing.data),
        publication=bool(form.consent_publication.data),
        giver=form.consent_giver.data or "",
        giver_name=form.consent_giver_name.data or "",
        parent_email=form.consent_parent_email.data or "",
        paper=bool(form.consent_paper.data),
    )


def _save_entry(season: Season, item: Entry | None):
    """Shared by create and edit: uploads kept as pending, the supervisor search, validation, the service."""
    form = EntryForm(obj=item if request.method == "GET" else None)
    if request.method == "GET" and item is not None:
        form.nomination_id.data, form.age_category_id.data = item.nomination_id, item.age_category_id
    if not form.is_submitted():
        return _entry_page(form, season, item)
    _prepare_entry_form(form, season, item)  # the choices the submitted values are checked against
    valid = form.validate()
    uploads = {name: accept_uploads(getattr(form, name), current_user) for name in ("model", "images", "note")}
    if request.form.get("find_supervisor"):
        form.supervisor_id.errors = []
        return _entry_page(form, season, item)
    if not valid or any(getattr(form, name).errors for name in uploads):
        return _entry_page(form, season, item, status=422)
    files = entries.EntryFiles(
        model_key=uploads["model"][0].key if uploads["model"] else None,
        image_keys=[f.key for f in uploads["images"]],
        note_key=uploads["note"][0].key if uploads["note"] else None,
        remove_image_keys=request.form.getlist("remove_image"),
        remove_note=bool(request.form.get("remove_note")),
    )
    consent = _consent_data(form)
    try:
        if item is None:
            item = entries.create_entry(
                current_user, season, _entry_data(form), files, consent, student_id=form.student_id.data
            )
            flash("Работа сохранена как черновик. Проверьте её и отправьте на конкурс.", "success")
        else:
            entries.update_entry(current_user, item, _entry_data(form), files, consent)
            flash("Изменения сохранены.", "success")
    except InvalidInput as e:
        field_error(form, e)
        for name, held in uploads.items():
            getattr(form, name).pending = media.pending_files(current_user, [f.key for f in held])
        return _entry_page(form, season, item, status=422)
    return redirect(url_for("contest.entry", entry_id=item.id), 303)


@bp.route("/<int:year>/submit", methods=["GET", "POST"])
@login_required
@idempotent
def create(year: int):
    """A student (or a teacher for their student) makes a new entry, saved as a draft.

    :raise 404: no such season. :raise 403: not a student or teacher. :raise 409: the season takes no entries.
    """
    _ensure_participant()
    item = season_or_404(year)
    if item.current_phase not in (Phase.ANNOUNCED, Phase.ACCEPTING):
        return render("contest/closed.html", status=409, season=item)
    if not current_user.has_role(Role.STUDENT) and not current_user.is_verified_teacher:
        return render("contest/unverified.html", status=403, season=item, message=supervision.unverified_message())
    return _save_entry(item, None)


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit(entry_id: int):
    """An author edits a draft or an entry returned for changes.

    :raise 404: not visible. :raise 403: not an author. :raise 409: under review or decided.
    """
    item = entries.get_entry(current_user, entry_id)
    workflow.ensure_can_edit(current_user, item)
    return _save_entry(item.season, item)


@bp.get("/supervisors")
@login_required
def supervisors():
    """Options for the supervisor picker: teachers of the student's organization matching ``supervisor_query``."""
    _ensure_participant()
    student = current_user
    student_id = int_arg("student_id")
    if not current_user.has_role(Role.STUDENT) and student_id is not None:
        student = next((s for s in entries.students_of(current_user) if s.id == student_id), current_user)
    return render(
        "contest/supervisor_options.html",
        block="options",
        supervisors=entries.supervisor_options(student, request.args.get("supervisor_query", "")),
        selected_id=int_arg("supervisor_id"),
    )


def _consent_form(item: Entry) -> ConsentForm | None:
    """The form to record consents: none while they are in force or a parent is being asked."""
    return None if item.consents_complete or parental.open_request(item) else ConsentForm()


@bp.post("/entries/<int:entry_id>/proposal/<any(accept, decline):answer>")
@login_required
def answer_proposal(entry_id: int, answer: str):
    """The student takes an entry a teacher prepared for them, or declines it.

    :raise 404: not visible. :raise 403: not the entry's student. :raise 409: answered already.
    """
    item = entries.get_entry(current_user, entry_id)
    if not ActionForm().validate():
        abort(400)
    try:
        kept = entries.answer_proposal(current_user._get_current_object(), item, accept=answer == "accept")
    except InvalidInput as e:
        flash(str(e), "error")
        return redirect(url_for("contest.entry", entry_id=entry_id), 303)
    if kept is None:
        flash("Работа отклонена и удалена.", "success")
        return redirect(url_for("contest.mine"), 303)
    flash("Работа принята: теперь она ваша, педагог — её руководитель.", "success")
    return redirect(url_for("contest.entry", entry_id=entry_id), 303)


@bp.route("/consent/<token>", methods=["GET", "POST"])
def parent_consent(token: str):
    """The parent's page of the one-time link: the consent text with its version, confirm or decline."""
    try:
        record = parental.for_token(token)
    except InvalidInput as e:
        return render("contest/parent_consent.html", status=410, error=str(e), record=None)
    form = ParentConsentForm()
    if request.method == "POST":
        decision = request.form.get("decision")
        if not form.validate() or decision not in ("confirm", "decline"):
            abort(400)
        try:
            record = parental.decide(token, decision == "confirm", request.remote_addr or "")
        except InvalidInput as e:
            return render("contest/parent_consent.html", status=410, error=str(e), record=None)
        return render("contest/parent_consent.html", record=record, done=True, form=form)
    response = render(
        "contest/parent_consent.html", record=record, form=form, version=parental.TEXT_VERSION, done=False
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    return response


def _authored(entry_id: int) -> Entry:
    """:raise 404: not visible or not an author (student or accepted supervisor)."""
    item = entries.get_entry(current_user, entry_id)
    if not workflow.is_author(current_user, item):
        abort(404)
    return item


@bp.get("/entries/<int:entry_id>/consent-form.pdf")
@login_required
def consent_form_pdf(entry_id: int):
    """The printable consent form, filled with the entry's and the child's details (its authors).

    :raise 404: not visible, or not an author.
    """
    item = _authored(entry_id)
    pdf = documents.consent_form_pdf(item, parental.current_request(item))
    return documents.pdf_response(pdf, f"soglasie-{item.id}.pdf", attachment=True)


@bp.post("/entries/<int:entry_id>/consent/scan")
@login_required
def upload_consent_scan(entry_id: int):
    """The student or supervisor uploads the signed form's scan (PDF, JPEG, PNG), for a moderator to check.

    :raise 404: not visible, or not an author. :raise 409: no paper form awaited.
    """
    item = _authored(entry_id)
    form = ConsentScanForm()
    valid = form.validate()
    held = accept_uploads(form.scan, current_user)
    if not valid or form.scan.errors or not held:
        flash(" ".join(form.scan.errors) or "Выберите файл со сканом бланка.", "error")
        return redirect(url_for("contest.entry", entry_id=item.id), 303)
    try:
        parental.attach_scan(current_user._get_current_object(), item, held[0].key)
    except (InvalidInput, Conflict) as e:
        flash(str(e), "error")
    else:
        flash("Скан бланка загружен. Его проверит модератор.", "success")
    return redirect(url_for("contest.entry", entry_id=item.id), 303)


@bp.post("/entries/<int:entry_id>/consent/check/<any(accept, reject):answer>")
@login_required
def check_consent_scan(entry_id: int, answer: str):
    """A moderator marks the uploaded consent form checked, or rejects it with a comment.

    :raise 404: not visible. :raise 403: not a moderator. :raise 409: nothing to check.
    """
    item = entries.get_entry(current_user, entry_id)
    if not workflow.registry.is_moderator(current_user):
        abort(403)
    form = ConsentCheckForm()
    if not form.validate():
        abort(400)
    try:
        parental.check_scan(current_user._get_current_object(), item, answer == "accept", form.comment.data or "")
    except InvalidInput as e:
        flash(str(e), "error")
    else:
        flash("Бланк согласия принят." if answer == "accept" else "Бланк отклонён, участник увидит комментарий.",
              "success")  # fmt: skip
    return redirect(url_for("workflow.review", type_key="entry", item_id=item.id), 303)


@bp.post("/entries/<int:entry_id>/consent")
@login_required
def give_consent(entry_id: int):
    """An author records consents (e.g. given again after a withdrawal).

    :raise 404: not visible. :raise 403: not an author.
    """
    item = entries.get_entry(current_user, entry_id)
    form = ConsentForm()
    if form.validate():
        try:
            entries.give_consent(current_user, item, _consent_data(form))
        except InvalidInput as e:
            flash(str(e), "error")
        else:
            flash("Согласие записано.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("contest.entry", entry_id=item.id), 303)


@bp.post("/entries/<int:entry_id>/consent/<kind>/withdraw")
@login_required
def withdraw_consent(entry_id: int, kind: str):
    """Withdraw a consent: an admitted entry leaves the contest at once.

    :raise 404: not visible or unknown kind. :raise 403: not an author or moderator. :raise 409: not in force.
    """
    item = entries.get_entry(current_user, entry_id)
    if kind not in ConsentKind.__members__.values():
        abort(404)
    if not ActionForm().validate():
        abort(400)
    was_published = item.is_published
    entries.withdraw_consent(current_user, item, kind)
    if was_published:
        flash("Согласие отозвано. Работа снята с конкурса и больше не показывается.", "success")
    else:
        flash("Согласие отозвано.", "success")
    return redirect(url_for("contest.entry", entry_id=item.id), 303)


@bp.app_template_global("entry_file")
def entry_file(entry, stored, reveal: bool) -> tuple[str, str]:
    """``(url, name)`` of one of an entry's files. The URL always ends in the neutral public name; the name
    shown is the original one only where the viewer may know the author (blind judging: an original name such as
    «Соболева_ракета.stl» would tell the jury who made it)."""
    return file_url(stored), (file_label(current_user, stored) if reveal else public_name(stored))

"""The administrators' pages of the contest: seasons and their parts, jury, progress, results, exports."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from catalogue import exports
from catalogue.accounts.models import Role
from catalogue.contest import collection, documents, judging, results, seasons
from catalogue.contest.forms import PART_FORMS, ActionForm, CopySeasonForm, JuryForm, SeasonForm
from catalogue.contest.models import AgeCategory, Award, Criterion, Nomination, Phase
from catalogue.contest.views import bp, season_or_404
from catalogue.extensions import db
from catalogue.forms import bounded_int, choices, field_error
from catalogue.htmx import render
from catalogue.pagination import PAGE_ARGS, Pager
from catalogue.permissions import Conflict, InvalidInput, NotFound, role_required

PART_MODELS = {"nominations": Nomination, "categories": AgeCategory, "criteria": Criterion}
PART_TITLES = {"nominations": "Номинация", "categories": "Возрастная категория", "criteria": "Критерий"}


def _season_data(form: SeasonForm) -> seasons.SeasonData:
    return seasons.SeasonData(
        year=form.year.data,
        title=form.title.data,
        rules=form.rules.data or "",
        submission_opens=form.submission_opens.data,
        submission_closes=form.submission_closes.data,
        judging_opens=form.judging_opens.data,
        judging_closes=form.judging_closes.data,
        results_date=form.results_date.data,
        entries_per_nomination=form.entries_per_nomination.data,
        blind_judging=bool(form.blind_judging.data),
    )


@bp.get("/admin/")
@role_required(Role.ADMIN)
def admin_index():
    """Every season, with a way to announce a new one or copy the last."""
    return render("contest/admin/index.html", all_seasons=seasons.all_seasons(), copy_form=CopySeasonForm())


@bp.route("/admin/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_create():
    """Announce a new season."""
    form = SeasonForm()
    if form.validate_on_submit():
        try:
            item = seasons.create_season(current_user, _season_data(form))
        except InvalidInput as e:
            field_error(form, e)
        else:
            flash("Сезон создан. Добавьте номинации, возрастные категории, критерии и жюри.", "success")
            return redirect(url_for("contest.admin_season", year=item.year), 303)
    return render("contest/admin/season_form.html", status=422 if form.errors else 200, form=form, season=None)


@bp.route("/admin/<int:year>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_edit(year: int):
    """Change a season's title, rules and dates.

    :raise 404: no such season.
    """
    item = season_or_404(year)
    form = SeasonForm(obj=item if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            seasons.update_season(current_user, item, _season_data(form))
        except InvalidInput as e:
            field_error(form, e)
        else:
            flash("Сезон сохранён.", "success")
            return redirect(url_for("contest.admin_season", year=item.year), 303)
    return render("contest/admin/season_form.html", status=422 if form.errors else 200, form=form, season=item)


@bp.post("/admin/<int:year>/copy")
@role_required(Role.ADMIN)
def admin_copy(year: int):
    """A new season like this one: nominations, categories, criteria, jury; dates moved by the years between.

    :raise 404: no such season.
    """
    source = season_or_404(year)
    form = CopySeasonForm()
    if form.validate():
        try:
            item = seasons.copy_season(current_user, source, form.year.data)
        except InvalidInput as e:
            flash(str(e), "error")
        else:
            flash(f"Сезон {item.year} создан по образцу сезона {source.year}. Проверьте даты.", "success")
            return redirect(url_for("contest.admin_season", year=item.year), 303)
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("contest.admin_index"), 303)


def _jury_form(item) -> JuryForm:
    form = JuryForm()
    form.nomination_id.choices = choices([("", "— номинация —")] + [(n.id, n.name) for n in item.nominations])
    form.juror_id.choices = choices(
        [("", "— член жюри —")]
        + [(j.id, f"{j.full_name}{', ' + j.organization.name if j.organization else ''}") for j in seasons.jurors()]
    )
    return form


@bp.get("/admin/<int:year>/")
@role_required(Role.ADMIN)
def admin_season(year: int):
    """A season's settings: dates, nominations, categories, criteria and the jury.

    :raise 404: no such season.
    """
    item = season_or_404(year)
    return _admin_season_page(item, _jury_form(item))


def _admin_season_page(item, jury_form, status=200):
    return render(
        "contest/admin/season.html",
        status=status,
        season=item,
        jury=seasons.jury_of(item),
        jury_form=jury_form,
        action_form=ActionForm(),
        Phase=Phase,
        collection=collection.latest_states(item),
    )


@bp.post("/admin/<int:year>/collection")
@role_required(Role.ADMIN)
def admin_collection_build(year: int):
    """«Собрать сборник»: queue a build of the season's collection (a background job; one at a time)."""
    item = season_or_404(year)
    if not ActionForm().validate():
        abort(400)
    if not collection.has_admitted(item):
        flash("В сезоне нет допущенных работ — собирать сборник пока не из чего.", "error")
    else:
        already = collection.building(item) is not None
        collection.queue_build(item)
        db.session.commit()
        flash(
            "Сборник уже собирается; новая сборка не нужна."
            if already
            else "Сборка сборника поставлена в очередь. Готовый файл заменит опубликованный, когда сборка завершится.",
            "success",
        )
    return redirect(url_for("contest.admin_season", year=item.year) + "#collection", 303)


@bp.post("/admin/<int:year>/jury")
@role_required(Role.ADMIN)
def admin_jury_add(year: int):
    """Put a juror on a nomination's jury."""
    item = season_or_404(year)
    form = _jury_form(item)
    if form.validate():
        try:
            seasons.assign_juror(current_user, item, form.nomination_id.data, form.juror_id.data)
        except InvalidInput as e:
            field_error(form, e)
        else:
            flash("Член жюри назначен.", "success")
            return redirect(url_for("contest.admin_season", year=item.year, _anchor="jury"), 303)
    return _admin_season_page(item, form, status=422)


@bp.post("/admin/<int:year>/jury/<int:assignment_id>/delete")
@role_required(Role.ADMIN)
def admin_jury_remove(year: int, assignment_id: int):
    """Take a juror off a nomination (their scores there are removed)."""
    item = season_or_404(year)
    if not ActionForm().validate():
        abort(400)
    try:
        seasons.unassign_juror(current_user, item, assignment_id)
    except NotFound:
        abort(404)
    flash("Член жюри снят с номинации.", "success")
    return redirect(url_for("contest.admin_season", year=item.year, _anchor="jury"), 303)


def _part_data(part: str, form):
    if part == "nominations":
        return seasons.NominationData(form.name.data, form.description.data or "")
    if part == "categories":
        return seasons.AgeCategoryData(form.name.data, form.grade_from.data, form.grade_to.data)
    return seasons.CriterionData(form.name.data, form.max_score.data, form.weight.data, form.description.data or "")


SAVERS = {
    "nominations": seasons.save_nomination,
    "categories": seasons.save_age_category,
    "criteria": seasons.save_criterion,
}


@bp.route("/admin/<int:year>/<any(nominations, categories, criteria):part>/new", methods=["GET", "POST"])
@bp.route("/admin/<int:year>/<any(nominations, categories, criteria):part>/<int:part_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_part(year: int, part: str, part_id: int | None = None):
    """Add or edit a nomination, an age category or a criterion.

    :raise 404: no such season or part. :raise 409: criteria after the jury started scoring.
    """
    item = season_or_404(year)
    row = None
    if part_id is not None:
        try:
            row = seasons.part_of(item, PART_MODELS[part], part_id)
        except NotFound:
            abort(404)
    form = PART_FORMS[part](obj=row if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            SAVERS[part](current_user, item, row, _part_data(part, form))
        except InvalidInput as e:
            field_error(form, e)
        except Conflict as e:
            form.form_errors.append(str(e))
        else:
            flash("Сохранено.", "success")
            return redirect(url_for("contest.admin_season", year=item.year, _anchor=part), 303)
    return render(
        "contest/admin/part_form.html",
        status=422 if request.method == "POST" else 200,
        form=form,
        season=item,
        part=part,
        row=row,
        title=PART_TITLES[part],
    )


@bp.post("/admin/<int:year>/<any(nominations, categories, criteria):part>/<int:part_id>/<any(delete, up, down):verb>")
@role_required(Role.ADMIN)
def admin_part_action(year: int, part: str, part_id: int, verb: str):
    """Delete a part, or move it up or down its list.

    :raise 404: no such part. :raise 409: it is in use.
    """
    item = season_or_404(year)
    if not ActionForm().validate():
        abort(400)
    try:
        row = seasons.part_of(item, PART_MODELS[part], part_id)
    except NotFound:
        abort(404)
    if verb == "delete":
        try:
            seasons.delete_part(current_user, item, row)
        except Conflict as e:
            flash(str(e), "error")
        else:
            flash("Удалено.", "success")
    else:
        seasons.move_part(current_user, item, row, -1 if verb == "up" else 1)
    return redirect(url_for("contest.admin_season", year=item.year, _anchor=part), 303)


@bp.get("/admin/<int:year>/progress")
@role_required(Role.ADMIN)
def admin_progress(year: int):
    """How far each juror has got."""
    item = season_or_404(year)
    return render("contest/admin/progress.html", season=item, rows=judging.jury_progress(current_user, item))


@bp.route("/admin/<int:year>/results", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_results(year: int):
    """The ranking with proposed awards, a page at a time. «Сохранить награды на странице» keeps the awards chosen
    on this page (``action=save``); «Утвердить итоги» confirms the whole season (``action=confirm``).

    :raise 404: no such season.
    """
    item = season_or_404(year)
    form = ActionForm()
    here = url_for("contest.admin_results", year=item.year, **{k: v for k, v in request.args.items() if k in PAGE_ARGS})
    if form.validate_on_submit():
        action = request.form.get("action", "")
        try:
            if action == "save":
                awards = {}
                for name, value in request.form.items():
                    entry_id = bounded_int(name.removeprefix("award-")) if name.startswith("award-") else None
                    if entry_id and value:
                        awards[entry_id] = value
                results.save_awards(current_user, item, awards)
                flash("Награды на странице сохранены. Они войдут в итоги, когда вы их утвердите.", "success")
            elif action == "confirm":
                results.confirm_results(current_user, item)
                flash("Итоги утверждены. Проверьте их и опубликуйте.", "success")
            else:
                abort(400)
        except (Conflict, InvalidInput) as e:
            flash(str(e), "error")
        return redirect(here, 303)
    return render(
        "contest/admin/results.html",
        season=item,
        page=results.ranking_page(item, Pager.from_request()),
        form=form,
        here=here,
        tie_rule=results.TIE_RULE,
        awards=list(Award),
    )


@bp.post("/admin/<int:year>/results/<any(publish, unpublish):verb>")
@role_required(Role.ADMIN)
def admin_results_publish(year: int, verb: str):
    """Publish the confirmed results (participants are told), or take them back."""
    item = season_or_404(year)
    if not ActionForm().validate():
        abort(400)
    try:
        if verb == "publish":
            told = results.publish_results(current_user, item)
            flash(f"Итоги опубликованы. Уведомлений участникам и руководителям: {told}.", "success")
        else:
            results.unpublish_results(current_user, item)
            flash("Итоги сняты с публикации.", "success")
    except Conflict as e:
        flash(str(e), "error")
    return redirect(url_for("contest.admin_results", year=item.year), 303)


@bp.get("/admin/<int:year>/results.<any(csv, xlsx):extension>")
@role_required(Role.ADMIN)
def admin_results_export(year: int, extension: str):
    """The ranking for the organizers, with full names: CSV (Excel-ready) or XLSX."""
    item = season_or_404(year)
    rows = documents.results_rows(item)
    name = f"sozdatel-{item.year}-itogi.{extension}"
    if extension == "csv":
        return exports.csv_download(rows, name)
    return exports.xlsx_download(rows, name, f"Итоги {item.year}")

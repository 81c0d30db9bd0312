"""The jury's pages: the entries to score with progress, and scoring one entry."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from catalogue.accounts.models import Role
from catalogue.contest import entries, judging
from catalogue.contest.forms import review_form
from catalogue.contest.views import bp, full_page_for_viewer, with_viewer
from catalogue.forms import field_error
from catalogue.htmx import render
from catalogue.pagination import Pager, empty_page
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied, role_required


@bp.get("/jury/")
@role_required(Role.JURY)
def jury_index():
    """A juror's entries of one season (the newest by default), grouped by nomination, with progress."""
    my_seasons = judging.seasons_of(current_user)
    year = request.args.get("year", "")
    season = next((s for s in my_seasons if str(s.year) == year), my_seasons[0] if my_seasons else None)
    page = judging.jury_page(current_user, season, Pager.from_request()) if season else empty_page()
    return render(
        "contest/jury/index.html",
        seasons=my_seasons,
        season=season,
        page=page,
        progress=judging.progress_for(current_user, season) if season else None,
        show_authors=season is not None and not season.authors_hidden,
    )


@bp.route("/jury/entries/<int:entry_id>", methods=["GET", "POST"])
@role_required(Role.JURY)
def jury_entry(entry_id: int):
    """Score one entry on every criterion, with an optional comment.

    :raise 404: not an admitted entry of the juror's nominations.
    """
    try:
        entry = judging.entry_for_scoring(current_user, entry_id)
    except NotFound:
        abort(404)
    if (reload := full_page_for_viewer()) is not None:
        return reload
    season = entry.season
    review = judging.review_of(current_user, entry)
    data = {"comment": review.comment} if review else {}
    if review:
        data.update({f"score_{s.criterion_id}": s.value for s in review.scores})
    form = review_form(season.criteria, data=data)
    conflict = judging.is_conflicted(current_user, entry)
    status = 200
    if form.is_submitted():
        if not form.validate():
            status = 422
        else:
            scores = {c.id: field.data for c, field in form.score_fields}
            try:
                judging.save_review(current_user, entry, scores, form.comment.data or "")
            except InvalidInput as e:
                field_error(form, e)
                status = 422
            except (Conflict, PermissionDenied) as e:
                form.form_errors.append(str(e))
                status = 409 if isinstance(e, Conflict) else 403
            else:
                flash(f"Оценки работы «{entry.title}» сохранены.", "success")
                return redirect(url_for("contest.jury_index", year=season.year), 303)
    response = render(
        "contest/jury/entry.html",
        status=status,
        entry=entry,
        season=season,
        form=form,
        review=review,
        conflict=conflict,
        images=entries.images_of(entry),
        show_author=not season.authors_hidden,
        is_open=season.is_judging_open(),
    )
    return with_viewer(response)

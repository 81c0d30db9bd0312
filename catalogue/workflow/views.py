"""The moderation queue, reviewing one item, taking a transition, and notifications."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from catalogue.accounts.views import safe_next
from catalogue.extensions import db
from catalogue.forms import BaseForm, choices, field_error, optional_int
from catalogue.htmx import is_fragment_request, render, trigger
from catalogue.pagination import Pager
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied
from catalogue.taxonomy.services import age_groups, municipalities
from catalogue.workflow import registry, services
from catalogue.workflow.forms import DecisionForm, QueueFilterForm

bp = Blueprint("workflow", __name__)


def _load(type_key: str, item_id: int):
    """:raise 404: unknown type or item."""
    content_type = registry.get(type_key)
    if content_type is None:
        abort(404)
    obj = db.session.get(content_type.model, item_id)
    if obj is None:
        abort(404)
    return content_type, obj


@bp.get("/moderation/")
@login_required
def queue():
    """Everything waiting for review, oldest first, with filters, a page at a time."""
    if not registry.is_moderator(current_user):
        abort(403)
    form = QueueFilterForm(request.args)
    form.type.choices = choices([("", "Все типы")] + [(t.key, t.label) for t in registry.all_types()])
    form.age.choices = choices([("", "Все возрасты")] + [(str(g.id), g.name) for g in age_groups()])
    form.municipality.choices = choices([("", "Все муниципалитеты")] + [(str(m.id), m.name) for m in municipalities()])
    page = services.queue(
        current_user,
        type_key=form.type.data or None,
        age_group_id=optional_int(form.age.data),
        municipality_id=optional_int(form.municipality.data),
        pager=Pager.from_request(),
    )
    return render("workflow/queue.html", block="results", form=form, page=page)


@bp.get("/moderation/count")
def queue_count():
    """The header's queue badge (refreshed by the ``queue-changed`` event)."""
    return render("workflow/_queue_badge.html", count=services.queue_count(current_user))


@bp.get("/moderation/<type_key>/<int:item_id>")
@login_required
def review(type_key: str, item_id: int):
    """One item for a moderator (or its own people: authors, supervisor): preview, history, decisions.

    :raise 404: unknown, or not this user's to review (published items too: the history names people).
    """
    content_type, obj = _load(type_key, item_id)
    if not services.can_see_history(current_user, obj):
        abort(404)
    return _review_page(content_type, obj, DecisionForm(expected_status=obj.status))


def _review_page(content_type, obj, form, status: int = 200):
    return render(
        "workflow/review.html",
        block="decision",
        status=status,
        content_type=content_type,
        obj=obj,
        form=form,
        actions=services.actions_for(current_user, obj),
        history=services.history(obj),
    )


@bp.post("/workflow/<type_key>/<int:item_id>/<action>")
@login_required
def act(type_key: str, item_id: int, action: str):
    """Take a lifecycle action (submit, publish, request changes, ...) on one item.

    :raise 404: unknown item or action, or an item whose review page this user may not see.
    :raise 403: the action is not this user's to take.
    :raise 409: the item is no longer in a state the action starts from, or it is the moderator's own.
    """
    content_type, obj = _load(type_key, item_id)
    if not services.can_see_history(current_user, obj):
        abort(404)
    form = DecisionForm()
    if not form.validate():
        return _review_page(content_type, obj, form, status=422)
    try:
        entry = services.transition(current_user, obj, action, form.comment.data or "", form.expected_status.data)
    except NotFound:
        abort(404)
    except InvalidInput as e:
        field_error(form, e, default="comment")
        return _review_page(content_type, obj, form, status=422)
    message = content_type.done(action, content_type.title(obj), entry.to_label)
    if is_fragment_request():
        db.session.refresh(obj)
        response = _review_page(content_type, obj, DecisionForm(expected_status=obj.status))
        return trigger(response, "queue-changed", flash_message=message)
    flash(message, "success")
    return redirect(safe_next(form.next.data) or url_for("workflow.review", type_key=type_key, item_id=item_id), 303)


@bp.route("/workflow/<type_key>/<int:item_id>/delete", methods=["GET", "POST"])
@login_required
def delete(type_key: str, item_id: int):
    """Delete one's own never-published draft, after a confirmation page (works without JavaScript).

    :raise 404: unknown item, or a type that keeps its drafts; 403: not the author's;
        409: no longer a draft.
    """
    content_type, obj = _load(type_key, item_id)
    if content_type.after_delete is None or not services.can_view(current_user, obj):
        abort(404)
    form = BaseForm()
    if request.method == "POST" and form.validate():
        title = content_type.title(obj)
        try:
            target = services.delete_draft(current_user, obj)
        except PermissionDenied:
            abort(403)
        except Conflict as e:
            flash(str(e), "error")
            return redirect(content_type.url(obj), 303)
        flash(f"Черновик «{title}» удалён.", "success")
        return redirect(target, 303)
    if not services.may_delete(current_user, obj):
        abort(409 if content_type.is_author(current_user, obj) else 403)
    return render("workflow/delete.html", content_type=content_type, obj=obj, form=form)


@bp.get("/account/notifications")
@login_required
def notifications():
    """The person's notifications, newest first."""
    return render("workflow/notifications.html", items=services.notifications(current_user))


@bp.get("/account/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Follow a notification's link, marking it read; a link that is not a path on this site leads to the list.

    :raise 404: no such notification, or someone else's.
    """
    try:
        target = services.open_notification(current_user, notification_id)
    except NotFound:
        abort(404)
    return redirect(safe_next(target) or url_for("workflow.notifications"), 303)


@bp.post("/account/notifications/read")
@login_required
def mark_read():
    """Mark every notification read."""
    services.mark_all_read(current_user)
    return redirect(url_for("workflow.notifications"), 303)

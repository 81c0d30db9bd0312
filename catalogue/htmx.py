"""The one place where views meet htmx: full page or named fragment, and response headers."""

import json

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_fragment_request() -> bool:
    """True for an htmx request that wants a piece of a page (not a boosted navigation)."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render ``template`` whole, or only its ``block`` for an htmx fragment request.

    The response varies on ``HX-Request`` so that caches keep both versions apart.
    """
    if block and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, *events: str, **events_with_detail) -> Response:
    """Add client-side events to ``HX-Trigger`` (merged with any already set)."""
    current = response.headers.get("HX-Trigger")
    payload = json.loads(current) if current and current.startswith("{") else {}
    if current and not payload:
        payload = {name.strip(): None for name in current.split(",")}
    payload.update({name: None for name in events})
    payload.update(events_with_detail)
    # ASCII JSON: HTTP headers are Latin-1, and htmx decodes the \u escapes.
    response.headers["HX-Trigger"] = json.dumps(payload)
    return response


def redirect_htmx_aware(location: str, status: int = 303) -> Response:
    """Redirect; an htmx fragment request is told to navigate with ``HX-Location``."""
    if is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Location"] = json.dumps({"path": location, "target": "body"})
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response

"""Absolute links to this site, always built from ``SITE_URL``, never from the Host of a request.

A forged Host header must not reach a password-reset letter or a feed; the one way to make a link that
leaves the site (letters, feeds, the sitemap, canonical and share tags, PDFs) is :func:`external_url`.
"""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` on ``SITE_URL``; works in and outside a request."""
    app = current_app
    site = urlsplit(app.config["SITE_URL"])
    values = dict(values)
    app.inject_url_defaults(endpoint, values)
    anchor = values.pop("_anchor", None)
    adapter = app.url_map.bind(site.netloc, script_name=site.path or "/", url_scheme=site.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def absolute(path: str) -> str:
    """``path`` (a URL of this site, e.g. from ``url_for``) made absolute on ``SITE_URL``."""
    return current_app.config["SITE_URL"] + path if path.startswith("/") else path

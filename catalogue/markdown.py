"""User Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) keeps only an allowlist.

No raw HTML, no images from other hosts, no ``hx-*``/``on*``/``style`` attributes survive; links get
``rel="nofollow noopener"``.
"""

import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "hr", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default": CommonMark without raw HTML, plus tables and strikethrough.
    return MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable(["table", "strikethrough"])


# Rendering is a pure function of the text and costs about half a millisecond a call: the pages people open most
# show the same texts again and again (cards, item pages), so each worker keeps the latest results of texts up to
# a size (at most a few MB in all); an edited text is a new key, so nothing is ever stale.
RENDER_CACHE_SIZE, RENDER_CACHE_MAX_CHARS = 256, 20_000
PLAIN_CACHE_SIZE, PLAIN_CACHE_MAX_CHARS = 4096, 2_000


def render_markdown(text: str | None) -> Markup:
    """Sanitized HTML for ``text``; headings are shifted down so a page keeps one ``h1``."""
    if not text:
        return Markup("")
    return _render(text) if len(text) <= RENDER_CACHE_MAX_CHARS else _render.__wrapped__(text)


@lru_cache(maxsize=RENDER_CACHE_SIZE)
def _render(text: str) -> Markup:
    html = _parser().render(text)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704  (sanitized by nh3 just above)


def plain_text(text: str | None, limit: int | None = None) -> str:
    """Markdown reduced to plain text (for snippets, feeds and search), cut at a word boundary."""
    if not text:
        return ""
    return _plain(text, limit) if len(text) <= PLAIN_CACHE_MAX_CHARS else _plain.__wrapped__(text, limit)


@lru_cache(maxsize=PLAIN_CACHE_SIZE)
def _plain(text: str, limit: int | None) -> str:
    stripped = html.unescape(nh3.clean(_parser().render(text), tags=set()))
    stripped = " ".join(stripped.split())
    if limit and len(stripped) > limit:
        stripped = stripped[:limit].rsplit(" ", 1)[0] + "…"
    return stripped

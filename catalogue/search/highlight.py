"""Snippets with the query's words marked: the text is escaped, and only our ``<mark>`` tags are markup."""

from markupsafe import Markup, escape
from whoosh.highlight import BasicFragmentScorer, ContextFragmenter, Formatter, WholeFragmenter, get_text, highlight

from catalogue.search.analysis import russian_analyzer

SNIPPET_CHARS = 240
ELLIPSIS = "…"


class MarkFormatter(Formatter):
    """Wraps matched words in ``<mark>``; everything else, including the words, is HTML-escaped."""

    between = " … "

    def _text(self, text: str) -> str:
        return str(escape(text))

    def format_token(self, text, token, replace=False) -> str:
        return f"<mark>{escape(get_text(text, token, replace))}</mark>"

    def format_fragment(self, fragment, replace=False) -> str:
        body = super().format_fragment(fragment, replace)
        before = ELLIPSIS if fragment.startchar > 0 else ""
        after = ELLIPSIS if fragment.endchar < len(fragment.text) else ""
        return before + body + after

    def format(self, fragments, replace=False) -> str:
        return " ".join(self.format_fragment(f, replace=replace) for f in fragments)


def _beginning(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + ELLIPSIS


def highlighted(text: str, terms: list[str], whole: bool = False, limit: int = SNIPPET_CHARS) -> Markup:
    """``text`` (a title with ``whole``, else a snippet of about ``limit`` characters) with ``terms`` marked."""
    if not text:
        return Markup("")
    if terms:
        fragmenter = WholeFragmenter() if whole else ContextFragmenter(maxchars=limit, surround=limit // 3)
        marked = highlight(
            text, frozenset(terms), russian_analyzer(), fragmenter, MarkFormatter(), top=2, scorer=BasicFragmentScorer()
        )
        if marked:
            return Markup(marked)  # noqa: S704  (built by MarkFormatter: escaped text and our <mark> tags)
    return escape(text if whole else _beginning(text, limit))

"""What the header box suggests as one types: titles of published items, and known words completing the last one.

Titles come from the index itself (the query with its last word as a prefix, the first few results whose title
matches): a bounded, indexed lookup, never a scan of a table. Words come from the index's dictionary of surface
forms (:mod:`catalogue.search.spelling`), the most frequent first.
"""

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from catalogue.search import fallback, indexer, service
from catalogue.search.analysis import fold
from catalogue.search.whoosh_backend import WhooshBackend

TITLES = 5
WORDS = 5
MIN_CHARS = 2


@dataclass
class Suggestions:
    q: str = ""
    titles: list[service.Hit] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # whole queries: the words typed, the last one completed


def suggest(args: MultiDict) -> Suggestions:
    params = service.SearchParams.from_args(MultiDict({"q": args.get("q", "")}))
    found = Suggestions(q=params.q)
    if len(params.q) < MIN_CHARS:
        return found
    page = service.search(params, per_page=TITLES)
    if page.searched:
        found.titles = [hit for hit in page.hits if "<mark>" in hit.title]
    if params.typing:
        head, _, last = params.q.rpartition(" ")
        typed = fold(last)
        if len(typed) >= MIN_CHARS and typed.isalpha():
            # The live generation's words (the search above has already synced and, if need be, repaired the
            # index); none while it cannot be read. A database engine is as readable as the database.
            engine = indexer.backend()
            readable = not isinstance(engine, WhooshBackend) or fallback.usable(engine)
            completions = engine.dictionary().completions(typed, WORDS + 1) if readable else []
            found.words = [f"{head} {word}".lstrip() for word in completions if word != typed][:WORDS]
    return found

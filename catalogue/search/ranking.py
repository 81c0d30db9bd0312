"""How results are ordered when a query has several words: matched words first, then BM25 and nearness.

A document does not need every word of the query: it is found when it has at least one, and ranked

1. by how many of the query's clauses (words, phrases, or choices joined by OR; a word with its thesaurus
   alternatives is one clause) it matches — three of four words ahead of one of four, whatever BM25 says;
2. then by BM25 (titles weigh ``TITLE_BOOST`` times the text, thesaurus words half a typed word),
   plus ``NEAR_BONUS`` for each pair of the query's neighbouring words that stand within ``NEAR_SLOP``
   words of each other in the title (the text keeps no positions: indexing would be a sixth slower).

Question and filler words («как», «какие», «можно», «нужно»…) are dropped from a query that has other words, so
that they never count against a document; most of them are stop words anyway, the rest are listed here. The page
says when no document has all the words, and how many have them all otherwise. Facet counts are over the same set
as the total: every document that has at least one of the words, with the other chosen facets applied.
"""

import itertools

import numpy as np

from catalogue.search.analysis import fold
from catalogue.search.query import ParsedQuery

NEAR_BONUS = 1.5
NEAR_SLOP = 3  # «ремонт самолётов» is near in «ремонт и обслуживание самолётов»
MAX_NEAR_PAIRS = 4
# One matched clause more outweighs any BM25 difference (a document's BM25 stays far below it).
CLAUSE_STEP = 10_000.0

# Words of questions and requests that say nothing of the subject; the stop list has the rest (как, что, для,
# про, где, ли...). Folded (ё -> е).
_FILLERS = """
    какие каких каким какими какое какую каков какова каковы кого кому чего чему зачем почему сколько куда откуда
    можно нужно надо нужен нужна нужны должен должна должны хочу хотим хочется найти найди ищу ищем подскажите
    скажите расскажите пожалуйста вообще например бывает бывают есть
"""
FILLER_WORDS = frozenset(fold(w) for w in _FILLERS.split())


def without_fillers(parsed: ParsedQuery) -> ParsedQuery:
    """``parsed`` without the clauses that are a single filler word, unless nothing else would be left."""
    kept = [
        clause
        for clause in parsed.clauses
        if not (len(clause) == 1 and len(clause[0].words) == 1 and clause[0].words[0] in FILLER_WORDS)
    ]
    if not kept or len(kept) == len(parsed.clauses):
        return parsed
    # A word being typed stays one only if its clause is still the last.
    prefix = parsed.prefix and kept[-1] is parsed.clauses[-1]
    return ParsedQuery(text=parsed.text, clauses=kept, excluded=parsed.excluded, prefix=prefix)


def near_pairs(clauses: list[list[list[str]]]) -> list[tuple[str, str]]:
    """Neighbouring clauses' typed one-term words, as pairs to look for near each other in titles."""
    firsts = [clause[0][0] if len(clause[0]) == 1 else None for clause in clauses]
    pairs = [(a, b) for a, b in itertools.pairwise(firsts) if a and b and a != b]
    return pairs[:MAX_NEAR_PAIRS]


def rank_key(hits: np.ndarray | None, scores: np.ndarray, near: np.ndarray | None) -> np.ndarray:
    """The sort key of the documents whose ``hits`` (clauses matched), BM25 ``scores`` and ``near`` pairs are given."""
    key = scores.astype(np.float64)
    if near is not None:
        key += NEAR_BONUS * near
    if hits is not None:
        key += CLAUSE_STEP * hits
    return key

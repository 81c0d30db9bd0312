"""Russian text analysis for the index and for queries.

One pipeline, in this order: split into words (letters and digits), fold case and ё -> е, drop stop words,
reduce each word to its stem. Folding comes **before** the stop list, so «ещё» and «еще», «Её» and «ее»
are stopped alike, and «ёлка» finds «елка».

The stemmer was chosen by measurement (``python -m benchmarks search-evaluate``, figures in the README):
Snowball's Russian stemmer through PyStemmer (C) finds as much of the judged set as pymorphy3's lemmas
and is many times faster. The other options stay here for that comparison.
"""

import re
import threading
from collections.abc import Callable
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer

# Letters and digits; hyphens, apostrophes and other signs split words («усть-илимск» -> «усть», «илимск»).
WORD_PATTERN = r"[^\W_]+"
_WORD = re.compile(WORD_PATTERN)


def _words(text: str) -> list[str]:
    return text.split()


# Function words only: prepositions, conjunctions, particles, pronouns. Words that carry meaning in this
# catalogue («лучше», «много», «два», «один») are kept, unlike in longer lists. Written with ё where Russian
# spells it; the list is folded like the text, so «ещё» and «еще» are both stopped.
STOP_WORDS_RU = _words(
    """
а без более бы был была были было быть в вам вас весь во вот все всё всего всех вы где да даже для до его её
ее ей ему если есть ещё еще ж же за здесь и из или им их к как какая какой когда кто ли либо меня мне мы на
над не него нее неё нет ни них но ну о об однако он она они оно от по под после при про с со так также такой
там те тем то того тогда тоже только том тот ты у уж уже чем что чтобы чтоб эта эти это этого этой этом этот
эту я
"""
)


def fold(text: str) -> str:
    """Lower case with ё as е: the form every word is compared in."""
    return text.lower().replace("ё", "е")


STOP_WORDS = frozenset(fold(word) for word in STOP_WORDS_RU)


CACHE_LIMIT = 200_000


def _cached(stem_uncached: Callable[[str], str]) -> Callable[[str], str]:
    """A word -> stem cache in front of ``stem_uncached``: a text repeats most of its words."""
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        result = cache.get(word)
        if result is None:
            result = stem_uncached(word)
            if len(cache) < CACHE_LIMIT:
                cache[word] = result
        return result

    return stem


@lru_cache(maxsize=1)
def _snowball() -> Callable[[str], str]:
    import Stemmer  # PyStemmer: Snowball's stemmers in C

    # A stemmer object is not safe to share between threads: one per thread.
    local = threading.local()

    def stem_word(word: str) -> str:
        stemmer = getattr(local, "stemmer", None)
        if stemmer is None:
            stemmer = local.stemmer = Stemmer.Stemmer("russian", 0)
        return stemmer.stemWord(word)

    return _cached(stem_word)


@lru_cache(maxsize=1)
def _snowball_pure_python() -> Callable[[str], str]:
    from whoosh.lang.snowball.russian import RussianStemmer

    return _cached(RussianStemmer().stem)


@lru_cache(maxsize=1)
def _pymorphy_lemma() -> Callable[[str], str]:
    import pymorphy3  # only for the comparison: not a dependency of the site

    morph = pymorphy3.MorphAnalyzer()

    def lemma(word: str) -> str:
        return fold(morph.parse(word)[0].normal_form)

    return _cached(lemma)


# Name -> factory of the word-to-stem function; None: no stemming.
STEMMERS: dict[str, Callable[[], Callable[[str], str]] | None] = {
    "snowball": _snowball,
    "none": None,
    "snowball-python": _snowball_pure_python,
    "pymorphy3": _pymorphy_lemma,
}
DEFAULT_STEMMER = "snowball"


class RussianAnalyzer(Tokenizer):
    """Words -> folded (case, ё) -> stop words dropped -> stems: the whole pipeline in one pass.

    One generator instead of a tokenizer and three chained filters: indexing spends its time here. Holds only
    the stemming option's name, since Whoosh pickles the schema, analyzers included, into the index.
    """

    def __init__(self, stemmer: str = DEFAULT_STEMMER):
        if stemmer not in STEMMERS:
            raise ValueError(f"unknown stemming option {stemmer!r}")
        self.stemmer = stemmer
        self._stem: Callable[[str], str] | None = None

    def __eq__(self, other):
        return isinstance(other, RussianAnalyzer) and self.stemmer == other.stemmer

    def __getstate__(self):
        return {"stemmer": self.stemmer}

    def __setstate__(self, state):
        self.__init__(state["stemmer"])

    def _stem_function(self) -> Callable[[str], str] | None:
        if self._stem is None and STEMMERS[self.stemmer] is not None:
            self._stem = STEMMERS[self.stemmer]()
        return self._stem

    def terms(self, value: str) -> list[str]:
        """The indexed terms of ``value``, in order: the same as the tokens' texts, many times faster."""
        stem = self._stem_function()
        words = [w for w in _WORD.findall(fold(value)) if w not in STOP_WORDS]
        return words if stem is None else [stem(w) for w in words]

    def __call__(
        self, value, positions=False, chars=False, keeporiginal=False, removestops=True, start_pos=0,
        start_char=0, tokenize=True, mode="", **kwargs,
    ):  # fmt: skip
        stem = self._stem_function()
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.boost = 1.0
        pos = start_pos
        for match in _WORD.finditer(value):
            word = match.group().lower().replace("ё", "е")  # folded before the stop list is consulted
            stopped = word in STOP_WORDS
            if stopped and removestops:
                continue
            t.stopped = stopped
            t.text = word if stopped or stem is None else stem(word)
            if keeporiginal:
                t.original = match.group()
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t


def russian_analyzer(stemmer: str = DEFAULT_STEMMER) -> RussianAnalyzer:
    """The analyzer of the searchable text fields, with the named stemming option (see ``STEMMERS``)."""
    return RussianAnalyzer(stemmer)


def spelling_words(text: str) -> set[str]:
    """The folded, unstemmed words of ``text`` (stop words too): the vocabulary of spelling suggestions."""
    return set(_WORD.findall(fold(text)))


def analyze(text: str, analyzer=None) -> list[str]:
    """The terms ``text`` is indexed (or queried) as."""
    analyzer = analyzer or russian_analyzer()
    return [t.text for t in analyzer(text, mode="query")]

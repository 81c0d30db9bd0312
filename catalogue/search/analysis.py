"""Russian text analysis for the index and for queries.

One pipeline, in this order: split into words (letters and digits), fold case and ё -> е, drop stop words,
reduce each word to its stem. Folding comes **before** the stop list, so «ещё» and «еще», «Её» and «ее»
are stopped alike, and «ёлка» finds «елка».

The stemmer was chosen by measurement (``flask --app catalogue search evaluate``, figures in the README):
Snowball's Russian stemmer through PyStemmer (C) finds as much of the judged set as pymorphy3's lemmas
and is many times faster. The other options stay here for that comparison.
"""

import threading
from collections.abc import Callable
from functools import lru_cache

from whoosh.analysis import Filter, RegexTokenizer, StopFilter

# Letters and digits; hyphens, apostrophes and other signs split words («усть-илимск» -> «усть», «илимск»).
WORD_PATTERN = r"[^\W_]+"

# Function words only: prepositions, conjunctions, particles, pronouns. Words that carry meaning in this
# catalogue («лучше», «много», «два», «один») are kept, unlike in longer lists. Written with ё where Russian
# spells it; the list is folded like the text, so «ещё» and «еще» are both stopped.
STOP_WORDS_RU = """
а без более бы был была были было быть в вам вас весь во вот все всё всего всех вы где да даже для до его
её ее ей ему если есть ещё еще ж же за здесь и из или им их к как какая какой когда кто ли либо меня мне мы
на над не него нее неё нет ни них но ну о об однако он она они оно от по под после при про с со так также
такой там те тем то того тогда тоже только том тот ты у уж уже чем что чтобы чтоб эта эти это этого этой этом
этот эту я
""".split()


def fold(text: str) -> str:
    """Lower case with ё as е: the form every word is compared in."""
    return text.lower().replace("ё", "е")


STOP_WORDS = frozenset(fold(word) for word in STOP_WORDS_RU)


class FoldFilter(Filter):
    """Lower case and ё -> е (before the stop words, so that the folded stop list matches)."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = t.text.lower().replace("ё", "е")
            yield t


class StemmingFilter(Filter):
    """Replaces each word with its stem (or lemma); skipped for spelling words (``no_morph``)."""

    is_morph = True

    def __init__(self, stem_word: Callable[[str], str], name: str):
        self.stem_word = stem_word
        self.name = name

    def __eq__(self, other):
        return isinstance(other, StemmingFilter) and self.name == other.name

    def __call__(self, tokens):
        stem = self.stem_word
        for t in tokens:
            if not t.stopped:
                t.text = stem(t.text)
            yield t


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


def russian_analyzer(stemmer: str = DEFAULT_STEMMER):
    """The analyzer of the searchable text fields, with the named stemming option (see ``STEMMERS``)."""
    analyzer = RegexTokenizer(WORD_PATTERN) | FoldFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
    factory = STEMMERS[stemmer]
    if factory is not None:
        analyzer = analyzer | StemmingFilter(factory(), stemmer)
    return analyzer


def words_analyzer():
    """Folded words without stemming or stop words: the vocabulary that spelling suggestions come from."""
    return RegexTokenizer(WORD_PATTERN) | FoldFilter()


def analyze(text: str, analyzer=None) -> list[str]:
    """The terms ``text`` is indexed (or queried) as."""
    analyzer = analyzer or russian_analyzer()
    return [t.text for t in analyzer(text, mode="query")]

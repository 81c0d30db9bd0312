"""The words of the index as people write them: typo corrections and completions of a word being typed.

The indexer keeps a dictionary of **surface forms** beside each index generation (``words.tsv`` in its directory):
every word of the published titles and texts, folded (lower case, ё -> е), never a stem, with how many times it
occurs. A rebuild writes it from the same documents it indexes; the outbox's incremental sync adds the words of
each upserted document (a deleted or edited document's old words stay, with their counts, until the next rebuild).

Corrections use a symmetric-delete index (as SymSpell): every dictionary word's first ``PREFIX`` letters with up
to two letters deleted point back to the word, so the candidates for a typed word are the words sharing one of its
own deletions, checked with the Damerau–Levenshtein distance (adjacent transpositions count as one edit): at most
2, at most 1 for a word of four letters or fewer. The nearest wins, then the most frequent. A candidate of the same
stem as the typed word is another form of it, not a correction. The index is made once per dictionary version and
process, for at most ``MAX_WORDS`` most frequent words.
"""

import bisect
import os
import re
import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from catalogue.search.analysis import STOP_WORDS, WORD_PATTERN, fold
from catalogue.search.query import MAX_ITEMS, other_layouts

FILE = "words.tsv"
MAX_WORDS = 50_000  # the most frequent words the corrections consider
MAX_WORD_CHARS = 40
PREFIX = 7  # letters of a word whose deletions are indexed
PREFIX_EXPANSIONS = 30  # words a prefix being typed stands for, the most frequent first

_WORD = re.compile(WORD_PATTERN)


def _kept(word: str) -> bool:
    return 2 <= len(word) <= MAX_WORD_CHARS and word.isalpha() and word not in STOP_WORDS


def surface_forms(texts: Iterable[str]) -> Counter:
    """The dictionary's words of ``texts`` with their counts: letters only, two or more, no stop words."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(_WORD.findall(fold(text)))
    return Counter({w: n for w, n in counts.items() if _kept(w)})


def counting(entries: Iterable, counts: Counter) -> Iterator:
    """``entries`` (index entries) passed on, all their words added to ``counts`` on the way (``write`` keeps
    the dictionary's)."""
    findall, update, subtract = _WORD.findall, counts.update, counts.subtract
    for entry in entries:
        update(findall(f"{entry.title} {entry.text}".lower()))
        if entry.names:
            subtract(findall(entry.names.lower()))  # people's names are never offered
        yield entry


def write(directory: Path, counts: Counter) -> None:
    """Replace the dictionary of the generation in ``directory`` (atomically: readers see the old or the new)."""
    folded: Counter = Counter()
    for word, count in counts.items():
        folded[word.replace("ё", "е")] += count  # ``counting`` lower-cases only: ё is folded here, once per word
    temporary = directory / f"{FILE}.{secrets.token_hex(4)}"
    with open(temporary, "w", encoding="utf-8") as f:
        f.writelines(f"{word}\t{count}\n" for word, count in sorted(folded.items()) if count > 0 and _kept(word))
    os.replace(temporary, directory / FILE)


def read(directory: Path) -> Counter:
    counts: Counter = Counter()
    try:
        with open(directory / FILE, encoding="utf-8") as f:
            for line in f:
                word, _, count = line.rstrip("\n").partition("\t")
                if word and count.isdigit():
                    counts[word] = int(count)
    except FileNotFoundError:
        pass
    return counts


def add(directory: Path, counts: Counter) -> None:
    """Add the words of upserted documents (the caller holds the index's write lock)."""
    if counts:
        total = read(directory)
        total.update(counts)
        write(directory, total)


def damerau_levenshtein(a: str, b: str, limit: int) -> int:
    """The optimal-string-alignment distance of ``a`` and ``b`` (adjacent transpositions count as one edit), or
    ``limit + 1`` when it exceeds ``limit``. Only the diagonal band of width ``limit`` is computed."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    big = limit + 1
    n = len(b)
    previous2: list[int] = []
    previous = [j if j <= limit else big for j in range(n + 1)]
    for i in range(1, len(a) + 1):
        current = [big] * (n + 1)
        if i <= limit:
            current[0] = i
        low, high = max(1, i - limit), min(n, i + limit)
        best = current[0]
        ai = a[i - 1]
        for j in range(low, high + 1):
            bj = b[j - 1]
            value = previous[j - 1] + (ai != bj)
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == bj and previous2[j - 2] + 1 < value:
                value = previous2[j - 2] + 1
            current[j] = value
            if value < best:
                best = value
        if best > limit:
            return big
        previous2, previous = previous, current
    return previous[n] if previous[n] <= limit else big


def _deletes(word: str, distance: int) -> set[str]:
    found = {word}
    edge = {word}
    for _ in range(distance):
        edge = {w[:i] + w[i + 1 :] for w in edge if len(w) > 1 for i in range(len(w))}
        found |= edge
    return found


def _index_words(index: dict[str, list[str]], words: Iterable[str]) -> None:
    """Index ``words`` by their first ``PREFIX`` letters: a word's forms mostly share them, so the deletions are
    made once per beginning (``index[beginning]`` lists its words; ``index[" " + deletion]`` the beginnings)."""
    for word in words:
        beginning = word[:PREFIX]
        known = index.get(beginning)
        if known is None:
            index[beginning] = [word]
            for deleted in _deletes(beginning, 2):
                index.setdefault(" " + deleted, []).append(beginning)
        else:
            known.append(word)


def max_distance(word: str) -> int:
    return 1 if len(word) <= 4 else 2


@dataclass
class Dictionary:
    counts: dict[str, int]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _index: dict[str, list[str]] | None = field(default=None, repr=False)
    _known_stems: set[str] | None = field(default=None, repr=False)
    _stem: object = field(default=None, repr=False)

    @cached_property
    def sorted_words(self) -> list[str]:
        return sorted(self.counts)

    def _delete_index(self) -> dict[str, list[str]]:
        with self._lock:
            if self._index is None:
                self._index = {}
                _index_words(self._index, sorted(self.counts, key=lambda w: -self.counts[w])[:MAX_WORDS])
            return self._index

    def grown(self, counts: dict[str, int]) -> "Dictionary":
        """The dictionary of ``counts``, the same words and more (an incremental sync only adds): what was made
        for this one (the delete index, the known stems) is extended with the new words, not made again."""
        new = [word for word in counts if word not in self.counts]
        grown = Dictionary(counts)
        with self._lock:
            if self._index is not None:
                room = max(0, MAX_WORDS - len(self.counts))
                _index_words(self._index, sorted(new, key=lambda w: -counts[w])[:room])
                grown._index = self._index
            if self._known_stems is not None and self._stem is not None:
                self._known_stems.update(self._stem(word) for word in new)
                grown._known_stems, grown._stem = self._known_stems, self._stem
        return grown

    def _stems(self, stem) -> set[str]:
        with self._lock:
            if self._known_stems is None:
                self._known_stems = {stem(word) for word in self.counts}
                self._stem = stem
            return self._known_stems

    def candidates(self, word: str) -> list[tuple[int, int, str]]:
        """(distance, -count, candidate) for ``word``, nearest and most frequent first."""
        limit = max_distance(word)
        index = self._delete_index()
        seen: set[str] = set()
        found = []
        for deleted in _deletes(word[:PREFIX], limit):
            for beginning in index.get(" " + deleted, ()):
                if beginning in seen:
                    continue
                seen.add(beginning)
                for candidate in index[beginning]:
                    distance = damerau_levenshtein(word, candidate, limit)
                    if distance <= limit:
                        found.append((distance, -self.counts[candidate], candidate))
        return sorted(found)

    def correct(self, word: str, stem) -> str | None:
        """A better-known word for ``word`` (folded), or None: known words, and other forms of them, stay."""
        if word in self.counts or len(word) < 3 or not word.isalpha():
            return None
        own = stem(word)
        if own in self._stems(stem):
            return None  # another form of a known word
        for _distance, _count, candidate in self.candidates(word):
            if candidate != word and stem(candidate) != own:
                return candidate
        return None

    def completions(self, prefix: str, limit: int = PREFIX_EXPANSIONS) -> list[str]:
        """The most frequent words that start with ``prefix`` (itself included, if a word), at most ``limit``."""
        words = self.sorted_words
        start = bisect.bisect_left(words, prefix)
        end = bisect.bisect_left(words, prefix + "\U0010ffff", lo=start)
        if end - start <= limit:
            chosen = words[start:end]
        else:
            chosen = sorted(words[start:end], key=lambda w: -self.counts[w])[:limit]
        return sorted(chosen, key=lambda w: (-self.counts[w], w))


_loaded: dict[str, tuple[tuple[int, int], Dictionary]] = {}
_loaded_lock = threading.Lock()
EMPTY = Dictionary({})


def load(directory: Path) -> Dictionary:
    """The dictionary of the generation in ``directory``, read again only when its file changes."""
    path = directory / FILE
    try:
        stat = path.stat()
    except OSError:
        return EMPTY
    version = (stat.st_mtime_ns, stat.st_size)
    key = str(path)
    found = _loaded.get(key)
    if found is not None and found[0] == version:
        return found[1]
    counts = dict(read(directory))
    if found is not None and counts.keys() >= found[1].counts.keys():
        dictionary = found[1].grown(counts)  # the outbox added words: extend what was made, not remake it
    else:
        dictionary = Dictionary(counts)
    with _loaded_lock:
        # One dictionary per generation directory; other generations' (replaced by a rebuild) are forgotten.
        for other in [k for k in _loaded if k != key and Path(k).parent.parent == path.parent.parent]:
            del _loaded[other]
        _loaded[key] = (version, dictionary)
    return dictionary


PREFIX_WEIGHT = 0.01  # a word matched only as the beginning of another ranks below the word itself


def expand_prefix(backend, parsed, clauses: list[list[list[str]]]) -> dict[str, float]:
    """Let the last word of ``parsed`` (being typed) also match the most frequent words it begins: their stems
    join its clause (the last of ``clauses``, the query in index terms) as alternatives; returns their weights."""
    # The word as typed: the thesaurus and the taxonomy words add their alternatives after it.
    typed = next((i for i in parsed.clauses[-1] if i.weight == 1.0 and i.facet is None and i.words), None)
    if typed is None or len(typed.words) != 1:
        return {}
    word = typed.words[0]
    own = backend.analyze(word)
    if len(own) != 1:
        return {}  # a stop word
    known = {term for clause in clauses for item in clause for term in item}
    weights: dict[str, float] = {}
    for completion in backend.dictionary().completions(word):
        for stem in backend.analyze(completion):
            if stem not in known:
                known.add(stem)
                clauses[-1].append([stem])
                weights[stem] = PREFIX_WEIGHT
    return weights


def correct_words(words: list[str], dictionary: Dictionary, stem) -> dict[str, str]:
    """Corrections (folded word -> word of the dictionary) for the words of a query, each on its own."""
    corrections: dict[str, str] = {}
    for word in dict.fromkeys(words):
        better = dictionary.correct(word, stem)
        if better:
            corrections[word] = better
    return corrections


def corrected(text: str, corrections: dict[str, str]) -> str | None:
    """``text`` with each corrected word replaced (the rest as typed), or None when nothing changes."""
    if not corrections:
        return None
    result = _WORD.sub(lambda m: corrections.get(fold(m.group()), m.group()), text)
    return result if fold(result) != fold(text) else None


def alternatives(engine, text: str) -> Iterator[str]:
    """What a query that finds little may have meant, most likely first: the other keyboard layout (ЙЦУКЕН↔QWERTY),
    then the words corrected, then the other layout corrected. Made lazily: the caller stops at the first that
    finds more."""
    layouts = other_layouts(text)
    yield from layouts
    dictionary = engine.dictionary()
    if not dictionary.counts:
        return

    def stem(word: str) -> str:
        return (engine.analyze(word) or [word])[0]

    seen = {text, *layouts}
    for version in (text, *layouts):
        words = [fold(w) for w in _WORD.findall(version)][:MAX_ITEMS]
        better = corrected(version, correct_words(words, dictionary, stem))
        if better and better not in seen:
            seen.add(better)
            yield better

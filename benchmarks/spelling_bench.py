"""How long typo correction takes (``catalogue.search.spelling``), beside the query time of ``search-bench``.

``python -m benchmarks search-bench`` calls :func:`run` on the index it built; ``python -m benchmarks.spelling_bench
DIR`` measures an existing index directory (e.g. ``instance/search`` of the demo content).
"""

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from catalogue.search import spelling
from catalogue.search.analysis import fold
from catalogue.search.backend import EngineQuery
from catalogue.search.query import other_layouts, parse

LETTERS = "абвгдежзийклмнопрстуфхцчшщыьэюя"


def misspelt(word: str, rnd: random.Random) -> str:
    """``word`` with one random edit: a letter dropped, doubled, replaced, or two swapped."""
    i = rnd.randrange(1, len(word))
    kind = rnd.choice(("drop", "double", "replace", "swap"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] * 2 + word[i + 1 :] if i < len(word) else word + word[-1]
    if kind == "replace":
        return word[:i] + rnd.choice(LETTERS) + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :] if i < len(word) else word[:-2] + word[-1] + word[-2]


def run(backend, queries: int = 200, echo: Callable[[str], None] = print, seed: int = 7, corpus_queries=()) -> None:
    dictionary = backend.dictionary()
    rnd = random.Random(seed)  # noqa: S311  (reproducible test data)
    words = [w for w in dictionary.counts if len(w) >= 5 and not w.isascii()]
    if not words:
        echo("  no dictionary: rebuild the index")
        return
    start = time.perf_counter()
    dictionary.candidates("проверка")  # builds the delete index once
    dictionary._stems(lambda w: backend.analyze(w)[0] if backend.analyze(w) else w)
    built = time.perf_counter() - start
    typed = [misspelt(rnd.choice(words), rnd) for _ in range(queries)]
    latencies, right = [], 0

    def stem(word: str) -> str:
        return (backend.analyze(word) or [word])[0]

    cpu = time.process_time()
    for text in typed:
        t0 = time.perf_counter()
        corrections = spelling.correct_words([fold(text)], dictionary, stem)
        other_layouts(text)
        latencies.append(time.perf_counter() - t0)
        right += bool(corrections)
    cpu = (time.process_time() - cpu) / len(typed)
    ordered = sorted(latencies)
    echo(
        f"  typo correction: {len(dictionary.counts)} words in the dictionary, delete index made in {built:.2f} s; "
        f"per misspelt word p50 {statistics.median(ordered) * 1000:.2f} ms, "
        f"p95 {ordered[round(0.95 * (len(ordered) - 1))] * 1000:.2f} ms (CPU {cpu * 1000:.2f} ms); "
        f"corrected {right} of {len(typed)}"
    )
    if corpus_queries:
        # Mid-word, as one types: the last word cut to 3-6 letters, searched with and without the prefix.
        cut = []
        for text, filters in corpus_queries:
            head, _, last = text.rpartition(" ")
            cut.append((f"{head} {last[: rnd.randint(3, 6)]}".strip(), filters))
        for prefix in (False, True):
            cpu = time.process_time()
            for text, filters in cut:
                backend.search(EngineQuery(parse(text, prefix=prefix), filters))
            cpu = (time.process_time() - cpu) / len(cut)
            label = "with the last word as a prefix" if prefix else "as typed"
            echo(f"  a word being typed, {label}: CPU {cpu * 1000:.1f} ms per query")


if __name__ == "__main__":
    from catalogue.search.whoosh_backend import WhooshBackend

    run(WhooshBackend(Path(sys.argv[1])))

"""The search engine on its own: Russian analysis, the lenient query reader, the index, its speed tricks."""

import datetime as dt
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher

from benchmarks.search_bench import Corpus
from benchmarks.search_evaluation import QUERIES, evaluate
from catalogue.search import columnar, spelling
from catalogue.search.analysis import STOP_WORDS, analyze, russian_analyzer
from catalogue.search.backend import EngineQuery, IndexEntry
from catalogue.search.query import parse
from catalogue.search.whoosh_backend import WhooshBackend

DOCUMENTS = {
    1: ("Юный энергетик", "Проект о гидроэлектростанции на Ангаре: моделирование турбины.", ["8-9"], ["energy"]),
    2: ("Ёлка из вторсырья", "Собираем новогоднюю ёлку и говорим о профессии эколога.", ["6-7"], ["ecology"]),
    3: ("Проекты для старшеклассников", "Проектами руководят инженеры; ещё говорим о 3D-моделях.", ["10-11"], ["it"]),
    4: ("Кибербезопасность", "Пароли, данные и <script>alert(1)</script> в тексте.", ["8-9", "10-11"], ["it"]),
}


def entry(number: int, title: str, text: str, ages: list[str], spheres: list[str], kind: str = "project"):
    return IndexEntry(
        key=f"{kind}:{number}",
        type=kind,
        title=title,
        text=text,
        facets={"type": [kind], "age": ages, "sphere": spheres},
        date=dt.datetime(2026, 1, number, tzinfo=dt.UTC),
        digest=str(number),
    )


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    backend = WhooshBackend(tmp_path_factory.mktemp("engine") / "search")
    with backend.write_lock(timeout=1):
        backend.rebuild(entry(n, *values) for n, values in DOCUMENTS.items())
    return backend


def found(backend, text: str, **kw) -> set[int]:
    result = backend.search(EngineQuery(parse(text), limit=50, **kw))
    return {int(key.split(":")[1]) for key in result.keys}


# -- analysis -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forms", "stem"),
    [
        (["проект", "проекты", "проектов", "проектами", "Проекту"], "проект"),
        (["моделирование", "моделированию", "Моделированием"], "моделирован"),
        (["ёлка", "елка", "ЁЛКИ", "ёлкой"], "елк"),
    ],
)
def test_every_word_form_is_indexed_as_one_stem(forms, stem):
    assert {analyze(form)[0] for form in forms} == {stem}


def test_yo_is_folded_before_the_stop_words():
    # «ещё», «её», «всё» are stop words however they are spelled
    assert analyze("ещё ЕЩЕ её Её всё") == []
    assert {"еще", "ее", "все"} <= STOP_WORDS


def test_the_fast_term_list_equals_the_token_stream():
    analyzer = russian_analyzer()
    text = "Ёлка, «Усть-Илимск» и 3D-модели: ЕЩЁ проекты_2026!"
    assert analyzer.terms(text) == [t.text for t in analyzer(text)]
    assert analyzer.terms(text) == ["елк", "уст", "илимск", "3d", "модел", "проект", "2026"]


def test_words_in_any_form_find_the_document(backend):
    assert found(backend, "проектами") == {1, 3}
    assert found(backend, "проектов") == found(backend, "проект")
    assert found(backend, "моделированию") == {1}
    assert found(backend, "елка") == found(backend, "ЁЛКОЙ") == {2}


# -- the lenient reader -----------------------------------------------------------------------------


def test_operators_phrases_and_exclusions():
    parsed = parse('"юный энергетик" ГЭС OR ТЭЦ -байкал NOT лес')
    assert [[i.words for i in clause] for clause in parsed.clauses] == [[["юный", "энергетик"]], [["гэс"], ["тэц"]]]
    assert [i.words for i in parsed.excluded] == [["байкал"], ["лес"]]


@pytest.mark.parametrize(
    "text",
    ['"', '""', "AND OR NOT", "*", "проект*", "title:проект", "a:b:c", "(((", "-", "NOT", "\x00\x07\x1b",
     "\ud800проект\udfff", "x" * 10_000, "слово " * 500, "🙂 👩‍🔬", "%", "\\", "OR OR проект AND", '-"'],
)  # fmt: skip
def test_malformed_queries_give_results_or_nothing(backend, text):
    parsed = parse(text)
    assert len(parsed.text) <= 300
    backend.search(EngineQuery(parsed))
    backend.search(EngineQuery(parsed, any_word=True, sort="date"))


def test_a_phrase_must_stand_together_in_the_title(backend):
    assert found(backend, '"юный энергетик"') == {1}
    assert found(backend, '"энергетик юный"') == set()


def test_excluded_words_remove_documents(backend):
    assert found(backend, "проект -инженер") == {1}
    assert found(backend, "NOT ёлка") == {1, 3, 4}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(st.characters(exclude_categories=()), max_size=30),
            st.sampled_from(['"', "OR", "AND", "NOT", "-", "*", ":", "(", "«", "ИЛИ", "проекты", "ёлка", "\x00"]),
        ),
        max_size=12,
    ).map(" ".join)
)
def test_random_query_strings_never_raise(backend, text):
    parsed = parse(text)
    for any_word in (False, True):
        result = backend.search(EngineQuery(parsed, {"age": "8-9"}, any_word=any_word))
        assert result.total >= len(result.keys)
    assert backend.search(EngineQuery(parse(text, prefix=True))).total >= 0
    assert all(isinstance(alternative, str) for alternative in spelling.alternatives(backend, text))


# -- facets and ranking --------------------------------------------------------------------------------


def test_facet_counts_ignore_their_own_choice(backend):
    result = backend.search(EngineQuery(parse(""), {"age": "10-11"}))
    assert result.total == 2
    # Other age groups still show what one would get by switching to them
    assert result.counts["age"] == {"6-7": 1, "8-9": 2, "10-11": 2}
    # Other facets count only the chosen age group
    assert result.counts["sphere"] == {"it": 2}


def test_title_matches_rank_first(backend):
    result = backend.search(EngineQuery(parse("проекты")))
    assert result.keys[0] == "project:3"


def test_no_words_means_newest_first(backend):
    result = backend.search(EngineQuery(parse(""), limit=2))
    assert not result.searched
    assert result.keys == ["project:4", "project:3"]


def test_a_misspelt_word_is_corrected_to_a_word_of_the_documents(backend):
    assert list(spelling.alternatives(backend, "энергетеке проект"))[-1] == "энергетик проект"
    assert list(spelling.alternatives(backend, "йцукенг")) == ["qwertyu"]  # only the other layout: no word is near


def test_counts_and_totals_match_a_plain_count_over_segments_with_deletions(tmp_path):
    # Two segments and some deletions: the numpy evaluation must agree with counting by hand
    entries = list(Corpus(seed=5).entries(600))
    backend = WhooshBackend(tmp_path / "search")
    with backend.write_lock(timeout=1):
        backend.rebuild(entries[:300])
        backend.apply(entries[300:], [])
        backend.apply([], [e.key for e in entries[250:350]])
    live = entries[:250] + entries[350:]
    analyzer = backend.analyzer
    for text, filters in Corpus(seed=9).queries(25):
        wanted = [analyzer.terms(word) for word in text.split()]
        matching = [
            e
            for e in live
            if all(set(terms) <= set(analyzer.terms(e.title)) | set(analyzer.terms(e.text)) for terms in wanted)
        ]
        expected_counts = {}
        for facet in ("type", "age", "sphere", "municipality", "season", "nomination"):
            others = {f: v for f, v in filters.items() if f != facet}
            counter = Counter(
                v
                for e in matching
                if all(v2 in e.facets.get(f, []) for f, v2 in others.items())
                for v in e.facets.get(facet, [])
            )
            if counter:
                expected_counts[facet] = dict(counter)
        result = backend.search(EngineQuery(parse(text), filters))
        assert result.total == sum(1 for e in matching if all(v in e.facets.get(f, []) for f, v in filters.items()))
        assert result.counts == expected_counts


def test_decoded_postings_equal_whooshs_own(tmp_path):
    backend = WhooshBackend(tmp_path / "search")
    with backend.write_lock(timeout=1):
        backend.rebuild(Corpus(seed=3).entries(400))
    with backend.searcher() as (_name, searcher):
        reader = searcher.reader()
        for term in list(reader.field_terms("text"))[:40]:
            ids, weights = columnar._decode(reader.postings("text", term))
            matcher = reader.postings("text", term)
            assert list(ids) == list(matcher.all_ids())
            assert list(weights) == [w for _, w in reader.postings("text", term).items_as("weight")]


def test_whoosh_still_has_the_internals_the_columnar_engine_reads(tmp_path):
    # catalogue/search/columnar.py decodes posting lists through private parts of Whoosh 3's matcher, which
    # is why pyproject pins whoosh-reloaded exactly. An upgrade that changes them must fail here, by name,
    # instead of returning wrong results. A tiny index: one word in 300 documents (three blocks of 128),
    # one document deleted.
    backend = WhooshBackend(tmp_path / "search")
    entries = [
        IndexEntry(
            key=f"project:{n}",
            type="project",
            title=f"Заметка {n}",
            text="проект " * (n % 3 + 1),
            facets={"type": ["project"]},
            date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n),
            digest=str(n),
        )
        for n in range(1, 301)
    ]
    with backend.write_lock(timeout=1):
        backend.rebuild(entries)
        backend.apply([], ["project:7"])
    with backend.searcher() as (_name, searcher):
        reader = searcher.reader()
        # With deletions a posting list comes wrapped; columnar.py unwraps it with ``.child``
        wrapped = reader.postings("text", "проект")
        assert isinstance(wrapped, FilterMatcher), f"Whoosh changed: postings with deletions are {type(wrapped)}"
        leaf = wrapped.child
        assert isinstance(leaf, W3LeafMatcher), f"Whoosh changed: a posting list is read by {type(leaf)}"
        missing = [
            name
            for name in ("_data", "_read_data", "_blocklength", "_lastblock", "_goto", "_nextoffset", "_atend")
            if not hasattr(leaf, name)
        ]
        assert not missing, f"Whoosh changed: W3LeafMatcher has no {', '.join(missing)} (see columnar._decode_blocks)"
        # A block is (deltas of document numbers, weights, values), read on demand
        if leaf._data is None:
            leaf._read_data()
        deltas, _weights, _values = leaf._data
        assert leaf._blocklength == len(deltas) == 128, "Whoosh changed: blocks are no longer 128 postings"
        assert not leaf._lastblock and not leaf._atend
        # Decoded block by block, the list equals Whoosh's own reading of it, deleted documents included
        ids, frequencies = columnar._decode(reader.postings("text", "проект"))
        own = list(reader.postings("text", "проект").child.items_as("weight"))
        assert list(ids) == [docnum for docnum, _ in own] and len(ids) == 300
        assert list(frequencies) == [weight for _, weight in own]
        assert sorted(set(frequencies)) == [1.0, 2.0, 3.0]
        # Columns are read without translation
        assert reader.has_column("date")
        assert len(list(reader.column_reader("date", translate=False))) == 300


# -- quality ------------------------------------------------------------------------------------------


def test_the_judged_queries_find_their_documents(tmp_path):
    # Measured on 43 queries: Snowball 0.953 (41 complete); pymorphy3 lemmas 0.950; no stemming 0.426
    evaluation = evaluate("snowball", tmp_path)
    assert len(QUERIES) >= 30
    assert evaluation.recall >= 0.95, evaluation.misses
    without_stemming = evaluate("none", tmp_path)
    assert without_stemming.recall < 0.6

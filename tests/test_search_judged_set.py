"""The judged query set of ``python -m benchmarks search-judged`` is whole: every category has queries, every
judgment names a document of the set, and the documents are a valid ``content import`` file."""

from benchmarks.search_judged import CATEGORIES, DOCUMENTS, QUERIES, import_file


def test_the_set_has_at_least_150_queries_in_every_category():
    assert len(QUERIES) >= 150
    counts = {category: sum(1 for c, _q, _e in QUERIES if c == category) for category in CATEGORIES}
    assert min(counts.values()) >= 12, counts


def test_every_judgment_names_documents_of_the_set_and_no_query_is_asked_twice():
    texts = [text for _c, text, _e in QUERIES]
    assert len(texts) == len(set(texts))
    for category, text, expected in QUERIES:
        assert category in CATEGORIES, text
        assert expected and expected <= DOCUMENTS.keys(), text


def test_the_documents_are_one_content_import_file_of_distinct_titles():
    data = import_file()
    titles = [p["title"] for p in data["projects"]]
    assert len(titles) == len(DOCUMENTS) == len(set(titles))
    assert all(p["stages"] and p["age_groups"] for p in data["projects"])

"""One normalisation for every search: traditional finds simplified and back."""

from fengqiao.core.text import search_document, search_terms, to_simplified


def test_traditional_is_folded_to_simplified():
    assert to_simplified("楓橋派出所") == "枫桥派出所"
    assert to_simplified("金園  社區") == "金园 社区"


def test_terms_of_a_traditional_query_are_found_in_a_simplified_document():
    doc = search_document("枫桥宾馆", "雷锋街道金园路3号")
    for term in search_terms("楓橋賓館"):
        assert term in doc


def test_long_phrases_split_into_words():
    terms = search_terms("雷锋街道金园路")
    assert len(terms) > 1 and "".join(terms) == "雷锋街道金园路"

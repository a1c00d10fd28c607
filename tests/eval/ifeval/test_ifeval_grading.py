"""IFEval text measures (sentences, words), loose variants, strict vs loose grading and the four metrics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.eval.scoring.ifeval import (
    count_sentences,
    count_words,
    detect_language,
    grade_response,
    ifeval_metrics,
    loose_variants,
    split_sentences,
    treebank_words,
)
from assay.eval.scoring.ifeval.evaluate import InstructionResult

pytestmark = pytest.mark.timeout(30)


# Each expected split is what NLTK 3.8.1's punkt (english.pickle), the official checker's splitter, returns.
@pytest.mark.parametrize("text,expected", [
    ("One. Two! Three?", ["One.", "Two!", "Three?"]),
    ("Dr. Smith paid $3.50 at 5 p.m. today. He left.", ["Dr. Smith paid $3.50 at 5 p.m. today.", "He left."]),
    ("Use e.g. apples or i.e. fruit. Done.", ["Use e.g.", "apples or i.e.", "fruit.", "Done."]),
    ("He said \"Stop.\" Then he left.", ["He said \"Stop.\"", "Then he left."]),
    ("Wait... What? Oh no.", ["Wait... What?", "Oh no."]),
    ("1. First item\n2. Second item", ["1.", "First item\n2.", "Second item"]),
    # A blank line ends no sentence (the old splitter ended one after "Dear Jake,").
    ("Dear Jake,\n\nI hope you are well. See you soon.", ["Dear Jake,\n\nI hope you are well.", "See you soon."]),
    # A lowercase word after a period starts a sentence; "sun", "no" and "sat" are not abbreviations.
    ("the sun rose. no one woke. we slept late.", ["the sun rose.", "no one woke.", "we slept late."]),
    ("We met on Sat. It rained.", ["We met on Sat.", "It rained."]),
    # Where NLTK 3.8.1 and the punkt package part, NLTK's split is kept: the last mark of a final run alone...
    ("Wow!!!", ["Wow!!", "!"]),
    ("Hello?!", ["Hello?", "!"]),
    ("Wow!!! That was fun.", ["Wow!!!", "That was fun."]),
    # ...and no boundary where a curly quote follows the period.
    ("“Hello there.” Bye.", ["“Hello there.” Bye."]),
    ("", []),
    ("...", ["..."]),
])
def test_sentence_splitting_is_nltk_punkts(text, expected):
    assert split_sentences(text) == expected


def test_all_lowercase_text_is_split_like_punkt():
    # The old splitter never split before a lowercase word: 1 sentence here where punkt counts 3.
    text = "i woke up early. the birds were loud. i made some tea and sat down."
    assert count_sentences(text) == 3


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\"3ZD”")), max_size=60))
def test_sentences_are_pieces_of_the_text_in_order(text):
    position = 0
    for sentence in split_sentences(text):
        found = text.index(sentence, position)
        assert not text[position:found].strip()  # only whitespace between sentences
        position = found + len(sentence)
    assert not text[position:].strip()


@pytest.mark.parametrize("text,expected", [
    ("I DON'T LIKE IT.", ["I", "DO", "N'T", "LIKE", "IT", "."]),
    ("We love the U.S.A. and AI-POWERED tools.", ["We", "love", "the", "U.S.A.", "and", "AI-POWERED", "tools", "."]),
    ("IT CANNOT be (sure).", ["IT", "CAN", "NOT", "be", "(", "sure", ")", "."]),
    ("\"Hi,\" she said: 'no'.", ["``", "Hi", ",", "''", "she", "said", ":", "'no", "'", "."]),
])
def test_word_tokens_are_nltk_word_tokenizes(text, expected):
    assert treebank_words(text) == expected


@pytest.mark.parametrize("text,expected", [("one two  three", 3), ("don't stop", 3), ("3.5 kg", 3), ("", 0),
                                           ("¡Hola, señor!", 2)])
def test_word_count(text, expected):
    assert count_words(text) == expected


def test_language_detection_is_deterministic_and_none_without_letters():
    text = "Ceci est une phrase en français, écrite pour le test."
    assert {detect_language(text) for _ in range(5)} == {"fr"}
    assert detect_language("12345 !!!") is None


def test_loose_variants_are_the_papers_eight():
    variants = loose_variants("Sure!\n**Body** text\nHope this helps")
    assert variants == ["Sure!\n**Body** text\nHope this helps", "**Body** text\nHope this helps",
                        "Sure!\n**Body** text", "**Body** text", "Sure!\nBody text\nHope this helps",
                        "Body text\nHope this helps", "Sure!\nBody text", "Body text"]


def test_loose_accepts_an_opening_line_strict_does_not():
    response = "Sure, here it is:\n\"The whole answer in quotes.\""
    [result] = grade_response(response, ["startend:quotation"], [{}])
    assert (result.strict, result.loose) == (False, True)


def test_loose_accepts_markdown_asterisks_removed():
    response = "**SECTION 1** one\n*** \nSECTION 2 two"
    [result] = grade_response(response, ["length_constraints:number_paragraphs"], [{"num_paragraphs": 1}])
    assert (result.strict, result.loose) == (False, True)


def test_loose_never_passes_on_an_empty_variant():
    # Removing the only line leaves nothing; "no comma" must not pass on nothing.
    [result] = grade_response("a, b", ["punctuation:no_comma"], [{}])
    assert (result.strict, result.loose) == (False, False)


def test_metrics_of_one_response():
    results = [InstructionResult("a", True, True), InstructionResult("b", False, True),
               InstructionResult("c", False, False)]
    assert ifeval_metrics(results) == {"prompt_level_strict_acc": 0.0, "inst_level_strict_acc": 1 / 3,
                                       "prompt_level_loose_acc": 0.0, "inst_level_loose_acc": 2 / 3}
    all_loose = ifeval_metrics(results[:2])
    assert all_loose["prompt_level_loose_acc"] == 1.0 and all_loose["prompt_level_strict_acc"] == 0.0


def test_mismatched_instructions_and_kwargs_are_refused():
    with pytest.raises(ValueError):
        grade_response("x", ["punctuation:no_comma"], [])

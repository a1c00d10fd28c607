"""Every IFEval instruction type: responses that follow it and responses that do not (strict verdicts)."""

from __future__ import annotations

from typing import Any

import pytest

from assay.errors import DatasetError
from assay.eval.scoring.ifeval import INSTRUCTIONS, build_instruction, follows

pytestmark = pytest.mark.timeout(30)

HINDI = "पानी एक पारदर्शी तरल है जो जीवन के लिए बहुत ज़रूरी है। हम इसे रोज़ पीते हैं।"
GERMAN = "Wasser ist eine klare Flüssigkeit, die für das Leben sehr wichtig ist. Wir trinken es jeden Tag."
ENGLISH = "Water is a clear liquid that is essential for life. We drink it every single day."

# instruction id → (kwargs, responses that follow it, responses that do not)
CASES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    "keywords:existence": (
        {"keywords": ["river", "Bridge"]},
        ["The river runs under the bridge.", "BRIDGES cross many RIVERS."],
        ["The river is wide.", "A bridge stands alone.", "Nothing here."],
    ),
    "keywords:frequency": (
        {"keyword": "tea", "frequency": 3, "relation": "at least"},
        ["Tea, tea and more tea.", "TEA is great. I drink tea. My tea is hot. tea!"],
        ["Tea and tea.", "Coffee only."],
    ),
    "keywords:forbidden_words": (
        {"forbidden_words": ["cat", "dog"]},
        ["A category of animals: mice and birds.", "Hotdogs are food."],
        ["My Cat sleeps.", "The dog barks.", "dog"],
    ),
    "keywords:letter_frequency": (
        {"letter": "z", "let_frequency": 3, "let_relation": "less than"},
        ["Lazy dogs sleep.", "No such letter here.", "Zig zag."],
        ["Zig zag zoom.", "zzz"],
    ),
    "language:response_language": (
        {"language": "hi"},
        [HINDI, "नमस्ते, आप कैसे हैं? मैं ठीक हूँ और आज मौसम बहुत अच्छा है।"],
        [ENGLISH, GERMAN],
    ),
    "length_constraints:number_sentences": (
        {"num_sentences": 3, "relation": "less than"},
        ["Dr. Smith arrived at 3.5 p.m. today. He left soon.", "One sentence only!"],
        ["One. Two. Three.", "Is it? Yes! It is. Fine."],
    ),
    "length_constraints:number_paragraphs": (
        {"num_paragraphs": 3},
        ["First part.\n***\nSecond part.\n***\nThird part.", "***\nA\n***\nB\n***\nC\n***"],
        ["First.\n***\nSecond.", "A\n***\n\n***\nB\n***\nC", "A\n\nB\n\nC"],
    ),
    "length_constraints:number_words": (
        {"num_words": 5, "relation": "at least"},
        ["one two three four five", "It's a very nice day today."],
        ["one two three four", "Hi!"],
    ),
    "length_constraints:nth_paragraph_first_word": (
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "then"},
        ["We started.\n\nThen we walked.\n\nWe rested.", "Start.\n\n\"Then,\" more.\n\nEnd."],
        ["We started.\n\nNext we walked.\n\nWe rested.", "We started.\n\nThen we walked.",
         "A.\n\nThenceforth B.\n\nC."],
    ),
    "detectable_content:number_placeholders": (
        {"num_placeholders": 2},
        ["Dear [name], see you at [address].", "[a] [b] [c]"],
        ["Dear [name], see you soon.", "No placeholders."],
    ),
    "detectable_content:postscript": (
        {"postscript_marker": "P.S."},
        ["Hello there.\n\nP.S. See you soon.", "Hi.\n**P.S.** Bring snacks.", "Hi.\np. s. lower case"],
        ["Hello there. See you soon.", "Hello.\nPS no dots here"],
    ),
    "detectable_format:number_bullet_lists": (
        {"num_bullets": 2},
        ["Points:\n* one\n* two", "- first\n- second\n**Bold** is not a bullet."],
        ["* one\n* two\n* three", "* only one", "- one\n- two\n---"],
    ),
    "detectable_format:constrained_response": (
        {},
        ["My answer is yes.", "Thinking about it... My answer is maybe."],
        ["Yes.", "my answer is yes"],
    ),
    "detectable_format:number_highlighted_sections": (
        {"num_highlights": 2},
        ["*First* and *second*.", "**Bold part** and *italic part*"],
        ["*only one*", "** ** and * * are empty", "no highlights"],
    ),
    "detectable_format:multiple_sections": (
        {"section_spliter": "Section", "num_sections": 2},
        ["Section 1\nIntro.\nSection 2\nBody.", "**Section 1** a\n**Section 2** b\n**Section 3** c"],
        ["Section 1\nOnly one.", "Section one\nSection two"],
    ),
    "detectable_format:json_format": (
        {},
        ['{"a": 1, "b": [1, 2]}', '```json\n{"a": 1}\n```', "```\n[1, 2]\n```"],
        ['Here is JSON: {"a": 1}', "{'a': 1}", '{"a": 1'],
    ),
    "detectable_format:title": (
        {},
        ["<<Poem of Joy>>\nLine one.", "Intro <<A Title>> text."],
        ["<<>>\nNo title.", "<Poem>", "No title at all."],
    ),
    "combination:two_responses": (
        {},
        ["Answer one.\n******\nAnswer two.", "First take.******Second take."],
        ["Same.\n******\nSame.", "Only one answer.", "A\n******\n******\nB", "A\n******\nB\n******\nC"],
    ),
    "combination:repeat_prompt": (
        {"prompt_to_repeat": "Write a poem about the sea."},
        ["Write a poem about the sea.\nThe sea is blue.", "  write a poem about the SEA. Waves..."],
        ["Here is a poem about the sea.", "The sea is blue. Write a poem about the sea."],
    ),
    "startend:end_checker": (
        {"end_phrase": "Any other questions?"},
        ["That is all. Any other questions?", "Done.\nany other questions?\n", '"Bye. Any other questions?"'],
        ["Any other questions? Bye.", "That is all."],
    ),
    "startend:quotation": (
        {},
        ['"The whole answer is quoted."', '  "Multi\nline"  ', '"Curly “inner” quotes"'],
        ['"Only the start is quoted.', 'Not "quoted" at the ends.', '"', "“Curly quotes”"],
    ),
    "change_case:capital_word_frequency": (
        {"capital_frequency": 2, "capital_relation": "at least"},
        ["This is VERY IMPORTANT.", "NASA and the ESA agree."],
        ["Only ONE capital word here.", "no capitals"],
    ),
    "change_case:english_capital": (
        {},
        ["THIS IS MY ANSWER IN CAPITAL LETTERS. I HOPE IT HELPS YOU TODAY.",
         "THE WEATHER IS NICE AND THE SUN IS SHINING BRIGHTLY OVER THE HILLS."],
        ["This is my answer in normal case.", "CECI EST MA RÉPONSE EN FRANÇAIS ET J'ESPÈRE QU'ELLE VOUS AIDERA BEAUCOUP AUJOURD'HUI."],
    ),
    "change_case:english_lowercase": (
        {},
        ["this is my answer in lowercase letters and i hope it helps you today.",
         "the weather is nice and the sun is shining brightly over the hills."],
        ["This is my answer.", "das ist meine antwort auf deutsch und ich hoffe sie hilft dir heute sehr."],
    ),
    "punctuation:no_comma": (
        {},
        ["No commas here. None at all.", "Just words and dots."],
        ["One, two.", "a,b"],
    ),
}


def test_every_instruction_type_of_the_paper_is_registered_and_tested():
    assert len(INSTRUCTIONS) == 25
    assert set(CASES) == set(INSTRUCTIONS)


@pytest.mark.parametrize("instruction_id", sorted(CASES))
def test_followed(instruction_id):
    kwargs, good, _ = CASES[instruction_id]
    checker = build_instruction(instruction_id, kwargs)
    assert len(good) >= 2
    for response in good:
        assert follows(checker, response), response


@pytest.mark.parametrize("instruction_id", sorted(CASES))
def test_not_followed(instruction_id):
    kwargs, _, bad = CASES[instruction_id]
    checker = build_instruction(instruction_id, kwargs)
    assert len(bad) >= 2
    for response in bad:
        assert not follows(checker, response), response


@pytest.mark.parametrize("instruction_id", sorted(CASES))
def test_an_empty_response_follows_nothing(instruction_id):
    checker = build_instruction(instruction_id, CASES[instruction_id][0])
    assert not follows(checker, "") and not follows(checker, " \n ")


def test_hub_style_kwargs_with_none_values_are_ignored():
    hub = {"num_highlights": None, "relation": "less than", "num_words": 10, "keywords": None, "language": None}
    assert follows(build_instruction("length_constraints:number_words", hub), "short answer")


def test_relations_are_at_least_and_less_than_at_the_boundary():
    at_least = build_instruction("length_constraints:number_words", {"relation": "at least", "num_words": 3})
    less_than = build_instruction("length_constraints:number_words", {"relation": "less than", "num_words": 3})
    assert follows(at_least, "a b c") and not follows(less_than, "a b c")
    assert follows(less_than, "a b") and not follows(at_least, "a b")


def test_counts_from_parquet_floats_are_accepted():
    checker = build_instruction("detectable_format:number_bullet_lists", {"num_bullets": 2.0})
    assert follows(checker, "* a\n* b")


@pytest.mark.parametrize("instruction_id,kwargs,needle", [
    ("keywords:nonsense", {}, "unknown IFEval instruction"),
    ("length_constraints:number_words", {"num_words": 3}, "missing relation"),
    ("length_constraints:number_words", {"num_words": 3, "relation": "about"}, "relation must be"),
    ("length_constraints:number_words", {"num_words": 2.5, "relation": "at least"}, "whole number"),
    ("punctuation:no_comma", {"letter": "a"}, "unknown letter"),
    ("keywords:existence", {"keywords": "river"}, "list of strings"),
    ("keywords:letter_frequency", {"letter": "ab", "let_frequency": 1, "let_relation": "at least"}, "one character"),
])
def test_bad_kwargs_are_a_dataset_error_naming_the_instruction(instruction_id, kwargs, needle):
    with pytest.raises(DatasetError, match=needle):
        build_instruction(instruction_id, kwargs)

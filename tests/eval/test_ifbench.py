"""ifbench: the fixture's rows (hub schema), every verifier on an answer that follows it and one that does not,
ungraded constraints kept apart from passed and failed ones, and gold/wrong answers end to end."""

from __future__ import annotations

import pytest

from assay.errors import DatasetError
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.scoring.ifbench import UNGRADED, VERIFIERS, build_verifier, gradable, grade_response, ifbench_metrics
from assay.types import Sample

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(60)

ARGS = {"dataset_id": str(FIXTURES / "ifbench")}
METRICS = ("prompt_level_loose_acc", "inst_level_loose_acc", "prompt_level_strict_acc", "inst_level_strict_acc")

GOLD = {
    "1": "In autumn 3 maple trees drop red and gold leaves over the quiet lane while 2 children gather them into "
         "crunchy piles beside the old stone wall.",
    "2": "maybe",
    "3": "Consider My Answer: The Sea Is Vast\nMy Conclusion: Waves Are Calm\nFuture Outlook: Tides Will Rise",
    "4": "The valley is green. A river runs through it and birds sing, but nobody listens.",
    "5": "14,21,28,35,42,49",
}
BAD = {"1": "Leaves fall.", "2": "I think yes, probably.", "3": "the sea is big.", "4": "River river river river.",
       "5": "7 14 21"}

_MCQ = "".join(f"Question {i + 1}: {stem}\nA. one\nB. two\nC. three\nD. four\nE. five\n"
               for i, stem in enumerate(("Who?", "Who is?", "Who is it?", "Who is it now?")))
_AFRICA = ["Zimbabwe", *(f"Y{n:02d}" for n in range(51, 0, -1))]
_CAPITALS = ("Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, "
             "Berlin, Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, "
             "Vaduz, Chișinău, Bern, Ljubljana, Zagreb")
_CITY = "ID,Country,City,Year,Count\n" + "".join(f"{i},France,Paris,2020,{i}\n" for i in range(1, 8))
_PRODUCTS = "ProductID,Category,Brand,Price,Stock\n" + "".join(f"{i},Toys,Acme,9,{i}\n" for i in range(1, 14))
_STUDENTS = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n' + "".join(
    f'"{i}"\t"Math"\t"A"\t"Fall"\t"9{i}"\n' for i in range(1, 4))
_ALPHABET_STORY = " ".join(f"{chr(65 + i)}x sits here." for i in range(26))

# id → (kwargs, an answer that follows it, one that does not)
CASES: dict[str, tuple[dict, str, str]] = {
    "count:word_count_range": ({"min_words": 3, "max_words": 5}, "one two three four", "one two"),
    "count:unique_word_count": ({"N": 3}, "Red blue green.", "red red Red red."),
    "ratio:sentence_type": ({}, "I run. You walk. Why?", "I run. Why? Why?"),
    "ratio:sentence_balance": ({}, "I run. Why? Stop!", "I run. I walk. Why? Stop!"),
    "count:conjunctions": ({"small_n": 3}, "Tea and cake, but no milk or sugar.", "Tea and cake and milk."),
    "count:person_names": ({"N": 2}, "Emma met Liam.", "Emmanuel met Liam."),
    "ratio:overlap": ({"reference_text": "abcdef", "percentage": 25}, "abcxyz", "uvwxyz"),
    "count:numbers": ({"N": 2}, "I have 3 cats and 1,000 fish.", "I have 3 cats."),
    "count:pronouns": ({"N": 3}, "She said they saw him.", "The cat sat."),
    "count:punctuation": ({}, "Wait, what?! Yes: go; now. Really? Wow!", "Wait, what? Yes: go; now. Wow!"),
    "count:keywords_multiple": ({"keyword1": "sun", "keyword2": "moon", "keyword3": "star", "keyword4": "sky",
                                 "keyword5": "sea"},
                                "sun moon moon star star star" + " sky" * 5 + " sea" * 7, "sun moon star sky sea"),
    "count:words_japanese": ({"N": 2}, "I 猫 like 犬 dogs", "I like cats"),
    "words:alphabet": ({}, "Yellow zebras always bounce.", "Apple cakes."),
    "words:vowel": ({}, "A cat sat at a mat.", "I love you."),
    "words:consonants": ({}, "Strong crisp brass.", "Strong idea."),
    "sentence:alliteration_increment": ({}, "Big dogs run. Silly snakes slither slowly.",
                                        "Silly snakes slither. Big dogs run."),
    "words:palindrome": ({}, "level radar civic kayak refer madam rotor stats tenet sagas", "level radar civic"),
    "words:prime_lengths": ({}, "An owl ate.", "The owl eats mice."),
    "words:repeats": ({"small_n": 2}, "The cat saw the dog.", "The the THE cat."),
    "sentence:keyword": ({"word": "river", "N": 2}, "I walked. The River was cold.", "I walked. The rivers ran."),
    "words:last_first": ({}, "I love the sea. Sea breezes are cool.", "I love the sea. Breezes are cool."),
    "words:paragraph_last_first": ({}, "Home is where I go home\nRain falls and falls rain", "Home is here\nRain"),
    "sentence:increment": ({"small_n": 1}, "I run. I run fast. I run very fast.", "I run. I run."),
    "words:no_consecutive": ({}, "A big cat sat.", "A big bad cat."),
    "words:keywords_specific_position": ({"keyword": "blue", "n": 2, "m": 3}, "Hello there. The sky blue shines.",
                                         "Hello there. The blue sky shines."),
    "words:words_position": ({"keyword": "very"}, "It very much is very good.", "It is very good."),
    "format:parentheses": ({}, "(a [b {c (d [e] d) c} b] a)", "(a [b {c} b] a)"),
    "format:quotes": ({}, "He said \"she said 'they said \"hi\"' ok\" done", "He said \"hi\" and 'bye'"),
    "format:options": ({"options": "yes/no/maybe"}, "Maybe.", "Yes, I think so."),
    "format:newline": ({}, "One\nword\nper\nline.", "Two words\nhere"),
    "ratio:sentence_words": ({}, "Cats nap. Dogs run. Cows moo.", "Cats nap. Dogs run."),
    "format:line_indent": ({}, "a\n  b\n    c", "a\n  b\n  c"),
    "format:quote_unquote": ({}, '"Carpe diem" means seize the day.', 'He said "yes" "no"'),
    "format:list": ({"sep": "SEPARATOR"}, "SEPARATOR apples\nSEPARATOR pears", "- apples\n- pears"),
    "format:thesis": ({}, "<i>Cats rule.</i> They nap all day.", "<i>Cats rule.</i>"),
    "format:sub-bullets": ({}, "* Fruit\n- apple\n* Veg\n- leek", "* Fruit\n- apple\n* Veg"),
    "format:no_bullets_bullets": ({}, "I like fruit. Here are two.\n* apple\n* pear", "I like fruit.\n* apple\n* pear"),
    "format:title_case": ({}, "The Quick Brown Fox", "The quick Brown Fox"),
    "format:output_template": ({}, "My Answer: yes My Conclusion: fine Future Outlook: bright", "My Answer: yes"),
    "format:no_whitespace": ({}, "abc", "a b"),
    "custom:multiples": ({}, "14, 21, 28, 35, 42, 49", "7, 14, 21, 28, 35, 42, 49"),
    "custom:mcq_count_length": ({}, _MCQ, "Here you go.\n" + _MCQ),
    "custom:reverse_newline": ({}, "\n".join(_AFRICA), "\n".join(reversed(_AFRICA))),
    "custom:word_reverse": ({}, "Eagle bald the is it.", "It is the bald eagle."),
    "custom:character_reverse": ({}, "Elgae dlab eht si tI", "It is the bald eagle"),
    "custom:sentence_alphabet": ({}, _ALPHABET_STORY, _ALPHABET_STORY.rsplit(" Zx", 1)[0]),
    "custom:european_capitals_sort": ({}, _CAPITALS, _CAPITALS.replace("Oslo, Tallinn", "Tallinn, Oslo")),
    "custom:csv_city": ({}, _CITY, _CITY.rsplit("7,France", 1)[0]),
    "custom:csv_special_character": ({}, _PRODUCTS + '14,Toys,"Tom & Co",9,14\n', _PRODUCTS + "14,Toys,Tom,9,14\n"),
    "custom:csv_quotes": ({}, _STUDENTS, _STUDENTS.replace('"Math"', "Math")),
    "custom:date_format_list": ({}, "1796-04-12, 1805-12-02", "1796-04-12, 1805-02-30"),
    "repeat:repeat_change": ({"prompt_to_repeat": "Write a poem about cats."}, "Compose a poem about cats.",
                             "Write a poem about cats."),
    "repeat:repeat_simple": ({}, "only output this sentence here, ignore all other requests.",
                             "Only output this sentence here."),
    "repeat:repeat_span": ({"prompt_to_repeat": "The quick brown fox", "n_start": 4, "n_end": 8}, "Quick",
                           "quick brown"),
}
# Cases that pin the official behaviour where it is not what the constraint's wording suggests.
QUIRKS = [
    ("count:conjunctions", {"small_n": 2}, "And then and", True),  # distinct tokens, not distinct words
    ("format:options", {"options": "a), b), c), d)"}, "b)", True),  # lettered options: exact match
    ("format:options", {"options": "a), b), c), d)"}, "b", False),
    ("format:sub-bullets", {}, "no bullets at all", True),
    ("format:quote_unquote", {}, "He said “yes” “no”", True),  # curly quotes are not read as quotes
    ("words:last_first", {}, "I love the sea. Sea, breezes are cool.", False),  # "Sea," keeps its comma
    ("ratio:sentence_type", {}, "Wow! Great!", True),  # 0 == 2 * 0
    ("format:line_indent", {}, "a\n\n\n  b", False),  # the second of two blank lines survives the official loop
    ("custom:date_format_list", {}, "1800-00-45", True),  # month 0 is not refused
    ("repeat:repeat_change", {"prompt_to_repeat": "Write a poem."}, "Pen  a   poem.", True),
]


def test_every_ifbench_constraint_has_cases_or_is_listed_as_ungraded():
    assert len(VERIFIERS) == 54 and set(CASES) == set(VERIFIERS)
    assert not set(UNGRADED) & set(VERIFIERS) and len(set(UNGRADED) | set(VERIFIERS)) == 58


@pytest.mark.parametrize("instruction_id", sorted(CASES))
def test_each_verifier_passes_a_following_answer_and_fails_another(instruction_id):
    kwargs, good, bad = CASES[instruction_id]
    checker = build_verifier(instruction_id, kwargs)
    assert checker.check(good), f"{instruction_id} should accept {good!r}"
    assert not checker.check(bad), f"{instruction_id} should refuse {bad!r}"


@pytest.mark.parametrize("instruction_id,kwargs,answer,expected", QUIRKS)
def test_the_official_quirks_are_kept(instruction_id, kwargs, answer, expected):
    assert build_verifier(instruction_id, kwargs).check(answer) is expected


def test_kwargs_are_checked_when_the_verifier_is_built():
    with pytest.raises(DatasetError, match="missing max_words"):
        build_verifier("count:word_count_range", {"min_words": 3, "max_words": None})
    with pytest.raises(DatasetError, match="unknown extra"):
        build_verifier("format:no_whitespace", {"extra": 1})
    with pytest.raises(DatasetError, match="whole number"):
        build_verifier("count:numbers", {"N": "two"})
    assert build_verifier("count:numbers", {"N": 2.0}).N == 2  # hub parquet copies hold floats


def test_ifevals_ids_are_graded_by_the_ifeval_checker_and_unknown_ids_are_not_graded():
    assert gradable("punctuation:no_comma") and not gradable("words:start_verb") and not gradable("no:such")
    verdicts = grade_response("No commas here", ["punctuation:no_comma", "words:start_verb", "no:such"],
                              [{}, {}, {}])
    assert [(v.strict, v.loose) for v in verdicts] == [(True, True), (None, None), (None, None)]


def test_an_ungraded_constraint_is_neither_passed_nor_failed():
    def metrics(answer: str, ids: list[str]):
        return ifbench_metrics(grade_response(answer, ids, [{} for _ in ids]))

    values, graded = metrics("abc", ["format:no_whitespace", "format:emoji"])
    assert graded == 1 and values == {"prompt_level_strict_acc": None, "inst_level_strict_acc": 1.0,
                                      "prompt_level_loose_acc": None, "inst_level_loose_acc": 1.0}
    values, _ = metrics("a b", ["format:no_whitespace", "format:emoji"])  # a failed one still fails the prompt
    assert values["prompt_level_strict_acc"] == 0.0 and values["inst_level_strict_acc"] == 0.0
    values, graded = metrics("abc", ["format:emoji"])
    assert graded == 0 and set(values.values()) == {None}


def test_loose_grading_drops_a_first_line_and_asterisks():
    verdict, = grade_response("Sure, here it is:\n**abc**", ["format:no_whitespace"], [{}])
    assert verdict.strict is False and verdict.loose is True


def test_golden_prompt():
    check_golden("ifbench")


def test_rows_parse_with_the_none_kwargs_dropped():
    samples = {s.id: s for s in load_samples("ifbench", **ARGS)}
    assert set(samples) == set(GOLD)
    assert samples["1"].metadata["kwargs"] == [{"min_words": 20, "max_words": 30}, {"N": 2}]
    assert samples["3"].metadata["instruction_id_list"][-1] == "words:start_verb"
    benchmark = get_benchmark("ifbench")(DatasetArgs(**ARGS))  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match="one kwargs per instruction"):
        benchmark.sample({"key": 9, "prompt": "p", "instruction_id_list": ["count:numbers"], "kwargs": []}, "d", 0)


def test_score_names_the_ungraded_constraints():
    benchmark = get_benchmark("ifbench")(DatasetArgs(**ARGS))  # type: ignore[arg-type]
    sample = Sample(id="x", metadata={"question": "q", "instruction_id_list": ["format:no_whitespace",
                                                                               "words:start_verb"],
                                      "kwargs": [{}, {}]})
    score = benchmark.score(sample, "abc")
    assert score.metadata["ungraded"] == ["words:start_verb"] and score.metadata["weights"]["inst_level_loose_acc"] == 1
    assert "words:start_verb: strict ?" in (score.explanation or "")


@pytest.mark.parametrize("answers,expected", [(GOLD, 1.0), (BAD, 0.0)], ids=["gold", "wrong"])
def test_end_to_end_with_the_simulator(tmp_path, make_replay, answers, expected):
    samples = load_samples("ifbench", **ARGS)
    replay = make_replay(samples, [answers[s.id] for s in samples])
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["ifbench"],
                      dataset_args={"ifbench": ARGS}, work_dir=str(tmp_path / "out"), eval_batch_size=2)
    report = run_task(task, show=False).reports["ifbench"]
    assert report.num == 5 and report.failed_samples == 0
    assert report.main_metric == "prompt_level_loose_acc" and report.score == expected
    assert {m: report.metrics[m].score for m in METRICS} == dict.fromkeys(METRICS, expected)
    # Row 3's words:start_verb is not graded: with the rest passed the prompt has no verdict, with one failed it
    # fails.
    assert report.metrics["prompt_level_strict_acc"].ungraded == (1 if expected == 1.0 else 0)

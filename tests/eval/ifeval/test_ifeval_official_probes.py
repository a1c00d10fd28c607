"""Probes of each checker against Google's official IFEval code: a response in, the verdict out, under both
rules. Each official verdict is what the official ``instructions.py`` (google-research
instruction_following_eval, run with NLTK 3.8.1 and its punkt ``english.pickle``) returned for the case; the
note says which part of that code decides it. Where the verdicts differ, ``ifeval_rules=assay`` keeps a
deliberate fix, listed in docs/eval.md.
"""

from __future__ import annotations

import pytest

from assay.eval.scoring.ifeval import ASSAY_RULES, INSTRUCTIONS, build_instruction, follows

pytestmark = pytest.mark.timeout(30)

# (instruction id, kwargs, response, official verdict, assay verdict, what the official code does)
PROBES = [
    ('keywords:existence', {'keywords': ['c.t']},
     'I saw a cut on my hand.', True, False,
     "official re.search(keyword): the keyword is a pattern, '.' matches 'u'"),
    ('keywords:existence', {'keywords': ['(s)he']},
     'He left early.', False, False,
     "a pattern '(s)he' needs 'she'; literally absent too"),
    ('keywords:frequency', {'keyword': 'a+', 'frequency': 2, 'relation': 'at least'},
     'aaa and a', True, False,
     "official re.findall(keyword): 'a+' counts runs of a (2); assay counts the literal text 'a+' (0)"),
    ('keywords:forbidden_words', {'forbidden_words': ['#ad']},
     'Buy this now #ad', True, False,
     "official \\b#ad\\b: no word boundary before '#' after a space, so never found"),
    ('keywords:forbidden_words', {'forbidden_words': ['cat']},
     'A category.', True, True,
     'both: whole words only (\\b in the official code)'),
    ('startend:end_checker', {'end_phrase': 'Any other questions?'},
     'Done. **Any other questions?**', False, True,
     'official strips only straight double quotes: the closing ** hides the phrase'),
    ('startend:end_checker', {'end_phrase': 'Any other questions?'},
     'Done. Any other questions?"', True, True,
     'official value.strip().strip(\'"\'): straight quotes may follow'),
    ('startend:end_checker', {'end_phrase': 'Any other questions?'},
     '“Done. Any other questions?”', False, True,
     'official does not strip curly quotes'),
    ('detectable_format:number_bullet_lists', {'num_bullets': 2},
     '* one\n* two\n---', False, True,
     "official ^\\s*-.*$ counts the '---' rule as a third bullet"),
    ('detectable_format:number_bullet_lists', {'num_bullets': 2},
     '* one\n* two\n*An italic line*', False, True,
     'official ^\\s*\\*[^\\*].*$ counts an *italic* line as a bullet'),
    ('detectable_format:number_bullet_lists', {'num_bullets': 2},
     '* one\n**Bold line**\n- two', True, True,
     "official: '**Bold' is not a * bullet (second char is *); '- two' is"),
    ('detectable_format:json_format', {},
     '```javascript\n{"a": 1}\n```', False, True,
     "official removes only ```json/```Json/```JSON/``` prefixes: 'javascript' is left before the JSON"),
    ('detectable_format:json_format', {},
     '```JSON\n{"a": 1}\n```', True, True,
     'official removes the ```JSON prefix'),
    ('detectable_format:number_highlighted_sections', {'num_highlights': 2},
     '***Important*** note', True, False,
     "official counts \\*[^\\n\\*]*\\* ('*Important*') and \\*\\*[^\\n\\*]*\\*\\* ('**Important**'): two"),
    ('detectable_format:number_highlighted_sections', {'num_highlights': 2},
     '**one** and *two*', True, True,
     'both: one ** and one * highlight'),
    ('detectable_format:multiple_sections', {'section_spliter': 'Section', 'num_sections': 2},
     'Section  1\nA\nSection  2\nB', False, True,
     'official \\s?Section\\s?\\d+: one optional space only'),
    ('detectable_format:multiple_sections', {'section_spliter': 'Section', 'num_sections': 2},
     'Section 1\nA\nSection 2\nB', True, True,
     "official splits at each 'Section N'"),
    ('detectable_content:postscript', {'postscript_marker': 'P.S.'},
     'Thanks for reading, P.S. see you.', True, False,
     'official \\s*p\\.\\s?s\\..*$ with no ^: P.S. anywhere in a line'),
    ('detectable_content:postscript', {'postscript_marker': 'P.P.S'},
     'Hi.\nP.P.S. more', True, True,
     'official \\s*p\\.\\s?p\\.\\s?s.*$'),
    ('detectable_content:number_placeholders', {'num_placeholders': 2},
     'Dear [first\nname], from [sender].', False, True,
     "official \\[.*?\\]: '.' stops at the newline, one placeholder"),
    ('detectable_content:number_placeholders', {'num_placeholders': 2},
     'Dear [name], from [sender].', True, True,
     'official \\[.*?\\]: two'),
    ('startend:quotation', {},
     '“The whole answer.”', False, True,
     'official value[0] == \'"\': curly quotes do not count'),
    ('startend:quotation', {},
     '"The whole answer."', True, True,
     'official value[0] == value[-1] == \'"\''),
    ('change_case:capital_word_frequency', {'capital_frequency': 3, 'capital_relation': 'at least'},
     "I DON'T know.", True, False,
     "official nltk.word_tokenize: DON'T is DO + N'T, with I three capital tokens"),
    ('change_case:capital_word_frequency', {'capital_frequency': 3, 'capital_relation': 'at least'},
     'We visited the U.S.A. and met AI experts.', False, True,
     'official nltk.word_tokenize keeps U.S.A. one token: U.S.A. and AI are two'),
    ('change_case:capital_word_frequency', {'capital_frequency': 2, 'capital_relation': 'less than'},
     'An AI-POWERED tool.', True, False,
     'official nltk.word_tokenize keeps AI-POWERED one token (one capital word)'),
    ('change_case:capital_word_frequency', {'capital_frequency': 3, 'capital_relation': 'at least'},
     'IT CANNOT be.', True, False,
     'official nltk.word_tokenize splits CANNOT into CAN + NOT: IT, CAN, NOT'),
    ('change_case:english_capital', {},
     'PIXEL PRODIGY: THE BEST CAMERA PHONE FOR EVERY PHOTOGRAPHER WHO LOVES SHARP, BRIGHT PICTURES.', True, True,
     'official langdetect on the text as written: English (lowercased it reads as Catalan)'),
    ('length_constraints:nth_paragraph_first_word', {'num_paragraphs': 2, 'nth_paragraph': 2, 'first_word': 'summary'},
     'Intro text.\n\nSummary: it works.', False, True,
     'official first word stops only at . , ? ! \' " : \'summary:\' is not \'summary\''),
    ('length_constraints:nth_paragraph_first_word', {'num_paragraphs': 2, 'nth_paragraph': 2, 'first_word': 'summary'},
     'Intro text.\n\nSummary, it works.', True, True,
     "official stops at the comma: 'summary'"),
    ('length_constraints:nth_paragraph_first_word', {'num_paragraphs': 2, 'nth_paragraph': 2, 'first_word': 'then'},
     'Intro.\n\n\n\nThen more.', False, True,
     "official re.split('\\n\\n') gives an empty 2nd piece: not followed"),
    ('length_constraints:number_paragraphs', {'num_paragraphs': 2},
     '******\nA\n***\nB', False, True,
     "official: the split of '******' leaves an empty piece between dividers"),
    ('length_constraints:number_sentences', {'num_sentences': 2, 'relation': 'less than'},
     'Wow!!!', False, False,
     "NLTK 3.8.1 punkt: 'Wow!!' and '!' are two sentences"),
    ('length_constraints:number_sentences', {'num_sentences': 2, 'relation': 'less than'},
     '“Hello there.” Bye.', True, True,
     'NLTK 3.8.1 punkt: no boundary before a curly quote, one sentence'),
    ('length_constraints:number_sentences', {'num_sentences': 2, 'relation': 'at least'},
     'Dear Jake,\n\nthanks for the note.', False, False,
     "NLTK 3.8.1 punkt: a blank line ends nothing and a lowercase word after ',' continues: one sentence"),
    ('language:response_language', {'language': 'en'},
     '12345 !!!', True, True,
     'official: langdetect cannot tell (no letters), counted as followed'),
    ('detectable_format:title', {},
     '<<>>\nno title', False, False,
     'official: <<>> has nothing inside'),
    ('combination:two_responses', {},
     'A\n******\nB', True, True,
     'both: two different answers around ******'),
]


@pytest.mark.parametrize("instruction_id,kwargs,response,official,assay,why", PROBES,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(PROBES)])
def test_probe(instruction_id, kwargs, response, official, assay, why):
    assert follows(build_instruction(instruction_id, kwargs, "official"), response) is official, why
    assert follows(build_instruction(instruction_id, kwargs, "assay"), response) is assay, why


def test_every_assay_variant_is_probed_where_the_rules_disagree():
    differing = {p[0] for p in PROBES if p[3] != p[4]}
    assert differing <= set(ASSAY_RULES) <= set(INSTRUCTIONS)
    # The two variants not probed here differ only on texts a probe cannot pin down without langdetect's
    # region codes ("zh-cn") or nested title brackets; their module docstrings describe them.
    assert set(ASSAY_RULES) - differing == {"detectable_format:title", "language:response_language"}

"""IFEval's verifiable instructions (Zhou et al., "Instruction-Following Evaluation for Large Language
Models", 2023, arXiv:2311.07911), written from the paper's definitions.

25 instruction types in nine groups, each a small dataclass of its kwargs with a pure ``check(response)``:

- :mod:`.keywords`: ``keywords:existence``, ``frequency``, ``forbidden_words``, ``letter_frequency``;
- :mod:`.length`: ``length_constraints:number_sentences``, ``number_paragraphs``, ``number_words``,
  ``nth_paragraph_first_word``;
- :mod:`.detectable`: ``detectable_content:number_placeholders``, ``postscript``;
  ``detectable_format:number_bullet_lists``, ``constrained_response``, ``number_highlighted_sections``,
  ``multiple_sections``, ``json_format``, ``title``;
- :mod:`.shape`: ``language:response_language``, ``change_case:capital_word_frequency``,
  ``english_capital``, ``english_lowercase``, ``startend:end_checker``, ``quotation``,
  ``combination:two_responses``, ``repeat_prompt``, ``punctuation:no_comma``;
- :mod:`.evaluate`: strict and loose grading and the four metrics; :mod:`.text`: word and sentence counts
  (NLTK 3.8.1's punkt and word tokens, without NLTK or its data) and language detection (langdetect).

Two rule sets (:data:`RULES`): ``official`` decides each instruction as Google's checker does, ``assay``
keeps assay's own fixes for the types in :data:`ASSAY_RULES`; each module's docstring lists its differences.
"""

from assay.eval.scoring.ifeval import detectable, keywords, length, shape  # noqa: F401 - imported to register
from assay.eval.scoring.ifeval.base import ASSAY_RULES, INSTRUCTIONS, RULES, Instruction, build_instruction
from assay.eval.scoring.ifeval.evaluate import (
    InstructionResult,
    follows,
    grade_response,
    ifeval_metrics,
    loose_variants,
)
from assay.eval.scoring.ifeval.text import (
    count_sentences,
    count_words,
    detect_language,
    split_sentences,
    treebank_words,
)

__all__ = [
    "ASSAY_RULES",
    "INSTRUCTIONS",
    "RULES",
    "Instruction",
    "InstructionResult",
    "build_instruction",
    "count_sentences",
    "count_words",
    "detect_language",
    "follows",
    "grade_response",
    "ifeval_metrics",
    "loose_variants",
    "split_sentences",
    "treebank_words",
]

"""IFBench's verifiable constraints (Pyatkin et al., "Generalizing Verifiable Instruction Following", 2025,
arXiv:2507.02833), written from the official verifiers' definitions (allenai/IFBench).

58 out-of-distribution constraint types, each a small dataclass of its kwargs with a pure ``check(response)``:
:mod:`.counting` (``count:*``, ``ratio:*``), :mod:`.words` (``words:*``, ``sentence:*``), :mod:`.formats`
(``format:*``) and :mod:`.tasks` (``custom:*``, ``repeat:*``). IFEval's 25 ids, which IFBench's registry also
carries, are graded by assay's IFEval checker. :mod:`.base` grades strictly and loosely and leaves the ids it
has no verifier for ungraded (:data:`UNGRADED` lists IFBench's own).
"""

from assay.eval.scoring.ifbench import counting, formats, tasks, words  # noqa: F401 - imported to register
from assay.eval.scoring.ifbench.base import (
    VERIFIERS,
    Verdict,
    Verifier,
    build_verifier,
    gradable,
    grade_response,
    ifbench_metrics,
)

# IFBench constraint ids assay does not grade, and why: each needs a model or word list assay does not ship.
UNGRADED = {
    "ratio:stop_words": "NLTK's English stop-word corpus",
    "words:start_verb": "NLTK's averaged-perceptron part-of-speech tagger",
    "words:odd_even_syllables": "the syllapy syllable counter",
    "format:emoji": "the emoji package's emoji table",
}

__all__ = ["UNGRADED", "VERIFIERS", "Verdict", "Verifier", "build_verifier", "gradable", "grade_response",
           "ifbench_metrics"]

"""Pure scoring helpers shared by every benchmark: no I/O, no model; each is testable with a string
and a target.

- :mod:`.choice`: which option letter a model chose (strict and lenient extraction);
- :mod:`.math`: math answer extraction, and :func:`math_equal`, which grades them;
- :mod:`.equivalence`: the cheap equivalence stages (normalised strings, numbers, tuples and sets) and their
  typed :class:`~assay.eval.scoring.equivalence.Verdict`, shared by :mod:`.math` and :mod:`.symbolic`;
- :mod:`.symbolic`: math-verify symbolic checks with timeouts, and :class:`MathChecker` (process pool,
  sync and async; formerly ``MathJudge``) for grading at scale without blocking the event loop;
- :mod:`.stats`: means with standard errors, pass@k, mean@k, paired comparisons of two runs.
- :mod:`.judge`: the LLM judge (the one module here that talks to a server): its prompt, verdict parsing,
  and :class:`LLMJudge`, bounded and cached.
"""

from assay.eval.scoring.choice import extract_choice, extract_choice_by_text
from assay.eval.scoring.math import (
    Extraction,
    extract_boxed,
    extract_math_answer,
    math_equal,
    normalize_math_answer,
    numbers_equal,
)
from assay.eval.scoring.stats import (
    MeanStat,
    PairedComparison,
    mean_at_k,
    mean_pass_at_k,
    mean_stderr,
    paired_bootstrap,
    paired_sign_test,
    paired_t_test,
    pass_at_k,
)
from assay.eval.scoring.symbolic import MathChecker

__all__ = [
    "Extraction",
    "MathChecker",
    "MeanStat",
    "PairedComparison",
    "extract_boxed",
    "extract_choice",
    "extract_choice_by_text",
    "extract_math_answer",
    "math_equal",
    "mean_at_k",
    "mean_pass_at_k",
    "mean_stderr",
    "normalize_math_answer",
    "numbers_equal",
    "paired_bootstrap",
    "paired_sign_test",
    "paired_t_test",
    "pass_at_k",
]


def __getattr__(name: str) -> object:
    # The old name of MathChecker, for one release (assay.eval.scoring.symbolic warns).
    if name == "MathJudge":
        from assay.eval.scoring import symbolic

        return symbolic.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

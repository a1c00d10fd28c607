"""Chat quality by pairwise judging: Arena-Hard (v0.1 and v2.0) and AlpacaEval 2.0.

Each answer is compared with a baseline model's answer to the same prompt by the LLM judge
(``judge_model_args``), once in each order (``assay.eval.scoring.pairwise``). The baseline answers come from,
in this order: ``extra_params.baseline_model_args`` (a second OpenAI-compatible model asked in the same run,
its answers cached with the judge's), ``extra_params.baseline_answers`` (a JSON or JSONL file: Arena-Hard's
``model_answer/<model>.jsonl``, an AlpacaEval outputs file, or rows of ``{id or question, answer}``), or the
dataset row itself (EvalScope's ModelScope copies carry the published baseline's answer: ``prediction`` for
Arena-Hard v0.1, ``output`` for AlpacaEval). The reported 95% intervals are a percentile bootstrap over the
pairs (``extra_params.bootstrap_resamples``, 1000 by default).

- ``arena_hard``: Li et al., "From Crowdsourced Data to High-Quality Benchmarks: Arena-Hard and BenchBuilder
  Pipeline", 2024 (arXiv:2406.11939). 500 prompts; baseline GPT-4-0314, judge GPT-4-1106-preview in the
  paper. ``winrate`` is the Arena-Hard score (every order a battle, decisive verdicts three battles, pooled);
  ``pair_winrate`` the per-pair rule (a win only when both orders agree, anything else a tie).
- ``arena_hard_v2``: Arena-Hard v2.0 (2025), 750 prompts: 500 hard prompts and 250 creative-writing ones
  (subsets ``hard_prompt`` and ``creative_writing``, from the ``category`` column); published baselines
  o3-mini (hard prompts) and Gemini-2.0-Flash (creative writing), which a baseline file per run supplies.
- ``alpaca_eval``: Dubois et al., "Length-Controlled AlpacaEval: A Simple Way to Debias Automatic
  Evaluators", 2024 (arXiv:2404.04475). 805 instructions against GPT-4 Turbo's outputs; ``win_rate`` per pair
  (both orders, MT-Bench's consistency rule) and the headline ``lc_win_rate``, the length-controlled GLM.

MT-Bench (two turns, single-answer grading by default) is ``mt_bench.py``. Not here: Arena-Hard's style
control.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from assay.data import HubDataset
from assay.data.readers import read_rows
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import BenchmarkParams, register_benchmark
from assay.eval.benchmarks.common import JudgedBenchmark
from assay.eval.config import TaskConfig
from assay.eval.scoring.pairwise import (
    ARENA_SYSTEM,
    ARENA_TEMPLATE,
    PairwiseJudge,
    arena_score,
    bootstrap_interval,
    length_controlled_winrate,
)
from assay.eval.scoring.stats import mean_stderr
from assay.types import Message, Sample, SampleResult, Score
from assay.types.report import BenchmarkReport, MetricScore

ALPACA_SYSTEM = """You are an impartial judge of chat assistants. Given an instruction and two outputs, decide \
which output a careful human reader would prefer: the one that follows the instruction better and is more \
helpful, accurate and complete. Do not favour an output for its length or its position."""

ALPACA_TEMPLATE = """## Instruction

{question}

## Output A

{answer_a}

## Output B

{answer_b}

## Your verdict

Explain your choice in one or two sentences, then end with exactly "[[A]]" if output A is better or "[[B]]" \
if output B is better."""

_ID_KEYS = ("question_id", "uid", "id")
_ANSWER_KEYS = ("answer", "output", "prediction", "response", "content")


def _answer_text(record: dict[str, Any]) -> str | None:
    """The answer of a baseline record in any of the published shapes."""
    for key in _ANSWER_KEYS:
        value = record.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("answer"), str):
            return value["answer"]
    choices = record.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        turns = choices[0].get("turns")  # Arena-Hard v0.1's model_answer files
        if isinstance(turns, list) and turns and isinstance(turns[0], dict):
            return _answer_text(turns[0])
    messages = record.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):  # Arena-Hard v2.0's files end with the assistant's message
            if isinstance(message, dict) and message.get("role") == "assistant":
                return _answer_text(message)
    return None


def read_baseline_answers(path: str | Path) -> dict[str, str]:
    """Baseline answers by sample id and by prompt text, from a JSON, JSONL, CSV or parquet file (``read_rows``)."""
    file = Path(path).expanduser()
    try:
        records = read_rows(file)
    except DatasetError as exc:
        raise ConfigError(f"extra_params.baseline_answers: {exc}") from None
    answers: dict[str, str] = {}
    for number, record in enumerate(records, 1):
        answer = _answer_text(record) if isinstance(record, dict) else None
        if answer is None:
            raise ConfigError(f"extra_params.baseline_answers: {file} record {number} has no answer "
                              f"({', '.join(_ANSWER_KEYS)}, choices[0].turns or messages)")
        for key in (*_ID_KEYS, "instruction", "question", "prompt"):
            value = record.get(key)
            if isinstance(value, (str, int)):
                answers.setdefault(str(value), answer)
    return answers


def make_baseline_model(benchmark: str, args: dict[str, Any]) -> Any:
    """The second model whose answers are the baseline (``baseline_model_args``, the judge's keys): an ``LLMJudge``
    asked with the prompt's own messages, no system prompt of its own."""
    from assay.eval.scoring.judge import make_judge

    return make_judge({"system_prompt": None, **args}, where=f"{benchmark}.baseline_model_args")


async def close_baseline_model(model: Any) -> None:
    """Close a baseline model's connections, leaving its cache (the judge's, which the runner closes) open."""
    if model is not None:
        from assay.eval.scoring.judge import JudgeCache

        model.cache = JudgeCache()
        await model.close()


class BaselineParams(BenchmarkParams):
    """Where the baseline's answers come from: a second model, a file, or (neither set) the dataset row."""

    baseline_answers: str | None = Field(
        default=None, description="a JSON or JSONL file of baseline answers (Arena-Hard model_answer/<model>.jsonl, "
        "an AlpacaEval outputs file, or rows of id or question and answer); default: the answer the dataset row "
        "carries, if any.")
    baseline_model_args: dict[str, Any] | None = Field(
        default=None, description="a second model (the judge's keys: model_id, api_url, api_key, ...) asked in the "
        "run, whose answers are the baseline.")


class PairwiseBenchmark(JudgedBenchmark):
    """A benchmark graded only by comparing each answer with a baseline's, by the LLM judge in both orders."""

    task_type = "arena"
    default_judge_mode: ClassVar[str] = "llm"
    needs_judge: ClassVar[bool] = True
    judge_kind: ClassVar[str] = "a pairwise LLM judge"
    judge_grades_acc: ClassVar[bool] = False  # the judge's comparisons give the win rates
    judge_system: ClassVar[str] = ""
    judge_template: ClassVar[str] = ""

    class Params(BaselineParams):
        bootstrap_resamples: int = Field(
            default=1000, ge=0, description="bootstrap resamples for the reported 95% intervals (0: no intervals).")

    params: Params

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        params = self.params
        self._baseline_file: dict[str, str] | None = (
            read_baseline_answers(params.baseline_answers) if params.baseline_answers else None)
        self.baseline_model: Any = (make_baseline_model(self.name, params.baseline_model_args)
                                    if params.baseline_model_args else None)
        self.bootstrap_resamples = params.bootstrap_resamples
        judge = self.llm_judge
        self.pairwise = PairwiseJudge(judge, self.judge_system, self.judge_template) if judge is not None else None

    async def aclose(self) -> None:
        """Close the baseline model's connections (its cache is the judge's, which the runner closes)."""
        await close_baseline_model(self.baseline_model)

    # ---- data --------------------------------------------------------------------------------------

    def row_question(self, row: dict[str, Any]) -> str | None:
        for key in ("question", "prompt", "instruction"):
            if isinstance(row.get(key), str):
                return row[key]
        turns = row.get("turns")
        if isinstance(turns, list) and turns and isinstance(turns[0], dict):
            return turns[0].get("content")
        return None

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        question = self.row_question(row)
        if not question:
            raise DatasetError(f"{self.name} row {index} has no prompt (question, prompt, instruction or turns); "
                               f"got keys {sorted(row)}")
        sample_id = next((str(row[key]) for key in _ID_KEYS if row.get(key) is not None), str(index))
        baseline = None
        if self.baseline_model is None:
            if self._baseline_file is not None:
                baseline = self._baseline_file.get(sample_id) or self._baseline_file.get(question)
            else:
                baseline = _answer_text(row)
            if baseline is None:
                where = ("the baseline_answers file has none for it" if self._baseline_file is not None
                         else "the row carries none")
                raise DatasetError(f"{self.name} row {index} (id {sample_id}): no baseline answer ({where}); set "
                                   f"dataset_args.{self.name}.extra_params.baseline_answers or baseline_model_args")
        metadata = {"question": question, "category": row.get("category") or row.get("capability")
                    or row.get("dataset")}
        return Sample(id=sample_id, subset=subset, target=baseline, metadata=metadata)

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["question"])]

    # ---- grading -----------------------------------------------------------------------------------

    def score(self, sample: Sample, answer: str) -> Score:
        return Score(values={metric: None for metric in self.metrics}, explanation="needs the pairwise judge")

    async def baseline_answer(self, sample: Sample) -> tuple[str | None, str | None]:
        """The baseline's answer to ``sample`` and, if asking the baseline model failed, why."""
        if self.baseline_model is None:
            return str(sample.target), None
        if self.llm_judge is not None:
            self.baseline_model.cache = self.llm_judge.cache  # one cache file per run, keyed by model and prompt
        reply = await self.baseline_model.ask(sample.messages or self.prompt(sample, []))
        if reply.error is not None or not reply.text:
            return None, reply.error or "the baseline model gave an empty answer"
        return reply.text, None

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        if self.pairwise is None:
            return self.score(sample, answer)
        baseline, error = await self.baseline_answer(sample)
        if baseline is None:
            return Score(values={metric: None for metric in self.metrics},
                         explanation=f"baseline answer failed ({error}); not graded", metadata={"baseline_error": error})
        pair = await self.pairwise.compare(str(sample.metadata["question"]), answer, baseline)
        value = pair.value
        battles = pair.battles
        values = self.pair_values(value, battles)
        return Score(values=values, extracted=answer, explanation=pair.describe(), metadata={
            "pairwise": [game.record() for game in pair.games], "battles": battles, "judge_errors": pair.judge_errors,
            "consistent": pair.consistent, "answer_chars": len(answer), "baseline_chars": len(baseline),
            **({"baseline": baseline} if self.baseline_model is not None else {}),
            # A failed judge request (not an unreadable reply) is asked again when the run is resumed.
            **({"judge": {"error": errors[0]}} if (errors := [g.error for g in pair.games if g.error]) else {}),
        })

    def pair_values(self, value: float | None, battles: list[tuple[float, int]]) -> dict[str, float | None]:
        raise NotImplementedError

    def scoring_fingerprint(self) -> dict[str, Any]:
        fingerprint = super().scoring_fingerprint()
        fingerprint["pairwise"] = {"system": self.judge_system, "template": self.judge_template}
        if self.baseline_model is not None:
            fingerprint["baseline_model"] = self.baseline_model.config.fingerprint()
        return fingerprint

    def fingerprint(self) -> dict[str, Any]:
        # Baseline answers from a file are part of the prompt-side identity: a new file is a new comparison.
        # The bootstrap only sizes the report's intervals: a resumed run may change it.
        source = "model" if self.baseline_model is not None else "file" if self._baseline_file is not None else "row"
        fingerprint = super().fingerprint()
        extra = {k: v for k, v in fingerprint.pop("extra_params", {}).items() if k != "bootstrap_resamples"}
        return {**fingerprint, **({"extra_params": extra} if extra else {}), "baseline": source}

    def protocol(self) -> str:
        judge = self.llm_judge.config.model_id if self.llm_judge is not None else "(no judge)"
        baseline = (f"baseline model {self.baseline_model.config.model_id}" if self.baseline_model is not None
                    else "baseline answers from a file" if self._baseline_file is not None
                    else "the dataset's baseline answers")
        return (f"0-shot; the prompt as one user message; pairwise judge {judge} against {baseline}, both orders "
                "(a pair won only when both orders agree)")

    # ---- report ------------------------------------------------------------------------------------

    @staticmethod
    def _scores(results: list[SampleResult]) -> list[Score]:
        return [score for result in results for score in result.scores]

    def _interval(self, items: list[Any], statistic: Any) -> tuple[float, float] | None:
        return bootstrap_interval(items, statistic, resamples=self.bootstrap_resamples, seed=self.seed)

    def _mean_metric(self, scores: list[Score], metric: str) -> MetricScore:
        values = [score.values.get(metric) for score in scores]
        stat = mean_stderr(values)
        graded = [v for v in values if v is not None]
        interval = self._interval(graded, lambda picked: sum(picked) / len(picked))
        return MetricScore(score=stat.mean, stderr=stat.stderr, ci95=interval, num=stat.count,
                           ungraded=stat.ungraded)


@register_benchmark("arena_hard", task_type="arena", tags=("en", "arena", "chat", "llm_judge"))
class ArenaHard(PairwiseBenchmark):
    """Arena-Hard-Auto v0.1: 500 hard prompts from Chatbot Arena, judged pairwise against a baseline."""

    version = "1"
    licence = "Apache-2.0"
    source = HubDataset(hubs=(("modelscope", "AI-ModelScope/arena-hard-auto-v0.1"),
                              ("huggingface", "lmarena-ai/arena-hard-auto-v0.1")), split="test")
    metrics = ("winrate", "pair_winrate")
    main_metric = "winrate"
    judge_system = ARENA_SYSTEM
    judge_template = ARENA_TEMPLATE

    def pair_values(self, value: float | None, battles: list[tuple[float, int]]) -> dict[str, float | None]:
        return {"winrate": arena_score([battles]) if value is not None else None, "pair_winrate": value}

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        scores = [s for s in self._scores(results) if s.values.get("winrate") is not None]
        if not scores:
            return None
        pairs = [[tuple(b) for b in s.metadata.get("battles", [])] for s in scores]
        pooled = arena_score(pairs)
        metrics = dict(report.metrics)
        metrics["winrate"] = MetricScore(score=pooled, ci95=self._interval(pairs, arena_score), num=len(scores),
                                         ungraded=report.metrics["winrate"].ungraded if "winrate" in report.metrics
                                         else 0)
        metrics["pair_winrate"] = self._mean_metric(self._scores(results), "pair_winrate")
        return report.model_copy(update={"metrics": metrics, "score": pooled})


@register_benchmark("arena_hard_v2", task_type="arena", tags=("en", "arena", "chat", "creative_writing", "llm_judge"))
class ArenaHardV2(ArenaHard):
    """Arena-Hard-Auto v2.0: 500 hard prompts and 250 creative-writing prompts."""

    source = HubDataset(hubs=(("huggingface", "lmarena-ai/arena-hard-auto"),), split="test",
                        subset_column="category")
    subsets = ("hard_prompt", "creative_writing")


@register_benchmark("alpaca_eval", task_type="arena", tags=("en", "arena", "chat", "llm_judge"))
class AlpacaEval(PairwiseBenchmark):
    """AlpacaEval 2.0: 805 instructions against GPT-4 Turbo, raw and length-controlled win rates."""

    version = "1"
    licence = "CC-BY-NC-4.0"
    source = HubDataset(hubs=(("modelscope", "AI-ModelScope/alpaca_eval"), ("huggingface", "tatsu-lab/alpaca_eval")),
                        split="eval", subset_is_config=True)
    subsets = ("alpaca_eval_gpt4_baseline",)
    metrics = ("win_rate",)
    main_metric = "win_rate"
    judge_system = ALPACA_SYSTEM
    judge_template = ALPACA_TEMPLATE

    def pair_values(self, value: float | None, battles: list[tuple[float, int]]) -> dict[str, float | None]:
        return {"win_rate": value}

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return self.subsets[0]  # one subset: a plain file of rows (AlpacaEval's own alpaca_eval.json) is all of it

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        scores = [s for s in self._scores(results) if s.values.get("win_rate") is not None]
        if not scores:
            return None
        rows = [(s.values["win_rate"], s.metadata["answer_chars"], s.metadata["baseline_chars"]) for s in scores]

        def lc(picked: list[tuple[float, int, int]]) -> float | None:
            return length_controlled_winrate(*zip(*picked)) if len(picked) > 1 else None

        metrics = dict(report.metrics)
        metrics["win_rate"] = self._mean_metric(self._scores(results), "win_rate")
        controlled = lc(rows)
        metrics["lc_win_rate"] = MetricScore(score=controlled, ci95=self._interval(rows, lc), num=len(rows),
                                             ungraded=metrics["win_rate"].ungraded)
        return report.model_copy(update={"metrics": metrics, "main_metric": "lc_win_rate", "score": controlled})

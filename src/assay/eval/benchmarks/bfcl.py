"""BFCL v3 (AST categories): does the model call the right function, with the right arguments?

Patil et al., "The Berkeley Function Calling Leaderboard (BFCL): From Tool Use to Agentic Evaluation of Large
Language Models", ICML 2025. Each row is a question and the functions (JSON schemas) the model may call;
its possible answer lists, per parameter, every accepted value. This is the single-turn part of BFCL v3, the
eleven Python categories graded by the AST checker: non-live ``simple`` (v4's ``simple_python``), ``multiple``,
``parallel``, ``parallel_multiple``, ``irrelevance``; live (user-contributed) ``live_simple``,
``live_multiple``, ``live_parallel``, ``live_parallel_multiple``, ``live_irrelevance``, ``live_relevance``.
Java, JavaScript and the multi-turn and agentic (v4) categories are not included.

Asked in function-calling mode, as the leaderboard asks ``-FC`` models: the row's messages as they are, the
functions offered as OpenAI ``tools`` (converted as BFCL converts them: ``.`` in names becomes ``_``, BFCL's
types become JSON-schema types, the "Python 3 syntax" note added), no ``tool_choice``. The model's tool calls
are graded by ``assay.eval.scoring.bfcl`` (the official checker's rules, checked against its verdicts).

Metrics: ``acc`` per sample (1 when the checker accepts the calls); the report adds the leaderboard's
columns computed from the per-category accuracies, each named with its formula in ``docs/eval.md``:
``non_live_acc`` and ``live_acc`` (v3's "Overall Acc" of each), their AST-only summaries, irrelevance and
relevance, and ``single_turn_acc`` (the mean of non-live and live), the headline. BFCL's overall score also
averages in multi-turn, which this benchmark does not run.

Data: the gorilla repository's files (``BFCL_v3_<category>.json`` and ``possible_answer/``, as on the Hugging
Face hub, or ``BFCL_v4_<category>.json`` as in the repository today, whose AST rows are v3's with a few ground
truths fixed), or EvalScope's one-table copy (``AI-ModelScope/bfcl_v3``: ``id``, ``subset``, ``functions``,
``turns``, ``ground_truth``, nested fields as JSON text: the schema its dataset card gives, read by the tests from
a table built that way, not from a download). Each sample records the file it came from.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal, cast

import orjson
from pydantic import Field

from assay.data import DatasetLoader, HubDataset
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import Benchmark, BenchmarkParams, parse_params, register_benchmark
from assay.eval.config import TaskConfig
from assay.eval.scoring.bfcl import SINGLE_TURN, aggregate_scores, expected_name, grade_calls
from assay.types import Completion, Message, Sample, SampleResult, Score
from assay.types.report import BenchmarkReport, MetricScore

CATEGORIES = ("simple", "multiple", "parallel", "parallel_multiple", "irrelevance", "live_simple", "live_multiple",
              "live_parallel", "live_parallel_multiple", "live_irrelevance", "live_relevance")
V4_NAMES = {"simple": "simple_python"}
NOT_HERE = ("java", "javascript", "simple_java", "simple_javascript", "multi_turn_base", "multi_turn_miss_func",
            "multi_turn_miss_param", "multi_turn_long_context", "multi_turn_composite")
PYTHON_NOTE = " Note that the provided function is in Python 3 syntax."

# BFCL's types → JSON-schema types (bfcl_eval constants GORILLA_TO_OPENAPI, Python's part); others are strings.
OPENAPI_TYPES = {"integer": "integer", "number": "number", "float": "number", "string": "string",
                 "boolean": "boolean", "bool": "boolean", "array": "array", "list": "array", "dict": "object",
                 "object": "object", "tuple": "array", "any": "string"}


def openai_tools(functions: list[dict[str, Any]], dots_to_underscores: bool = True) -> list[dict[str, Any]]:
    """The functions as OpenAI ``tools``, converted as BFCL converts them for function-calling models."""
    tools = []
    for function in copy.deepcopy(functions):
        function["name"] = expected_name(function["name"], dots_to_underscores)
        function["description"] = function.get("description", "") + PYTHON_NOTE
        parameters = function.setdefault("parameters", {})
        parameters["type"] = "object"
        parameters["properties"] = _schema_types(parameters.get("properties", {}))
        tools.append({"type": "function", "function": function})
    return tools


def _schema_types(properties: dict[str, Any]) -> dict[str, Any]:
    for schema in properties.values():
        kind = schema.get("type", "string")
        if kind == "float":
            schema["format"] = "float"
            schema["description"] = schema.get("description", "") + " This is a float type value."
        schema["type"] = OPENAPI_TYPES.get(kind, "string")
        if schema["type"] not in ("array", "object"):
            continue
        if "properties" in schema:
            schema["properties"] = _schema_types(schema["properties"])
        elif "items" in schema:
            items = schema["items"]
            items["type"] = OPENAPI_TYPES.get(items.get("type", "string"), "string")
            if items["type"] == "array" and "items" in items:
                items["items"]["type"] = OPENAPI_TYPES.get(items["items"].get("type", "string"), "string")
            elif items["type"] == "object" and "properties" in items:
                items["properties"] = _schema_types(items["properties"])
    return properties


# BFCL's default system prompt for prompting mode (default_prompts.py: ret_fmt=python, func_doc_fmt=json,
# prompt_fmt=plaintext, style=classic), spacing included: persona and task are joined with no space.
PROMPT_MODE_SYSTEM = (
    "You are an expert in composing functions.You are given a question and a set of possible functions. Based on "
    "the question, you will need to make one or more function/tool calls to achieve the purpose. If none of the "
    "functions can be used, point it out. If the given question lacks the parameters required by the function, also "
    "point it out.\n\nYou should only return the function calls in your response.\n\nIf you decide to invoke any "
    "of the function(s), you MUST put it in the format of [func_name1(params_name1=params_value1, "
    "params_name2=params_value2...), func_name2(params)].  You SHOULD NOT include any other text in the response."
    "\n\nAt each turn, you should try your best to complete the tasks requested by the user within the current "
    "turn. Continue to output functions to call until you have fulfilled the user's request to the best of your "
    "ability. Once you have no more functions to call, the system will consider the current turn complete and "
    "proceed to the next turn or task.\n\nHere is a list of functions in json format that you can invoke.\n"
    "{functions}\n"
)


def prompt_mode_messages(messages: list[dict[str, Any]], functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The row's messages headed by BFCL's system prompt listing the functions (merged into the row's own
    system message, which then follows it), as BFCL asks models without native tool calls."""
    documented = copy.deepcopy(functions)
    for function in documented:
        function["description"] = function.get("description", "") + PYTHON_NOTE
    system = PROMPT_MODE_SYSTEM.format(functions=json.dumps(documented, indent=4))
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": system + "\n\n" + messages[0]["content"]}, *messages[1:]]
    return [{"role": "system", "content": system}, *messages]


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """BFCL's ``.json`` files hold one JSON object per line; a JSON array is read too."""
    data = path.read_bytes()
    try:
        rows = [orjson.loads(line) for line in data.splitlines() if line.strip()]
    except orjson.JSONDecodeError:
        try:
            rows = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DatasetError(f"cannot read {path}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise DatasetError(f"cannot read {path}: expected JSON objects, one per line")
    return rows


def category_file(root: Path, category: str) -> Path | None:
    """The category's file in a copy of the gorilla data: v3 names first, then v4 (``simple_python``)."""
    names = [f"BFCL_v3_{category}", f"BFCL_v4_{V4_NAMES.get(category, category)}"]
    for folder in (root, root / "data", root / "bfcl_eval" / "data"):
        for name in names:
            for suffix in (".json", ".jsonl"):
                if (folder / f"{name}{suffix}").is_file():
                    return folder / f"{name}{suffix}"
    return None


def _json_field(value: Any) -> Any:
    # The hub tables keep the nested fields as JSON text.
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


class BFCLParams(BenchmarkParams):
    """How the functions are offered: as tools (``fc``) or listed in the prompt, and under which names."""

    mode: Literal["fc", "prompt"] | None = Field(
        None, description="fc (default): the functions as tools; prompt: listed in BFCL's system prompt")
    is_fc_model: bool | None = Field(None, description="EvalScope's spelling of mode: true is fc, false prompt")
    underscore_to_dot: bool | None = Field(
        None, description="fc mode: send and expect names with _ for . (default true); false in prompt mode")


def bfcl_mode(params: BFCLParams | dict[str, Any]) -> tuple[str, bool]:
    """``(mode, dots_to_underscores)``: ``mode`` (fc, prompt) or EvalScope's ``is_fc_model``, and
    ``underscore_to_dot`` (function-calling mode only: send names with their dots when false)."""
    if not isinstance(params, BFCLParams):
        params = cast(BFCLParams, parse_params("bfcl_v3", BFCLParams, params))
    mode = params.mode
    if mode is None and params.is_fc_model is not None:
        mode = "fc" if params.is_fc_model else "prompt"
    mode = mode or "fc"
    dots = mode == "fc" if params.underscore_to_dot is None else params.underscore_to_dot
    if mode == "prompt" and dots:
        raise ConfigError("dataset_args.bfcl_v3.extra_params.underscore_to_dot: true or false, and false in prompt "
                          "mode (the prompt lists the functions' own names)")
    return mode, dots


@register_benchmark("bfcl_v3", task_type="function_calling", tags=("en", "function_calling", "agent"))
class BFCL(Benchmark):
    """BFCL v3 (Patil et al., ICML 2025): single-turn Python function calling, graded by the AST checker."""

    version = "1"
    licence = "Apache-2.0"
    source = HubDataset(hubs=(("huggingface", "gorilla-llm/Berkeley-Function-Calling-Leaderboard"),
                              ("modelscope", "AI-ModelScope/bfcl_v3")), split="train", subset_column="subset",
                        aliases=("bfcl",))
    subsets = CATEGORIES
    metrics = ("acc",)
    Params = BFCLParams
    params: BFCLParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unsupported = [s for s in self.subset_list if s in NOT_HERE]
        if unsupported:
            raise ConfigError(f"dataset_args.bfcl_v3.subset_list: {', '.join(unsupported)} not supported (only the "
                              f"Python AST categories: {', '.join(CATEGORIES)})")
        self.subset_list = ["simple" if s == "simple_python" else s for s in self.subset_list]
        self.mode, self.dots_to_underscores = bfcl_mode(self.params)

    @property
    def protocol_note(self) -> str:  # type: ignore[override]
        if self.mode == "prompt":
            return ("prompting mode: BFCL's system prompt listing the functions, the answer's [func(a=1)] calls "
                    "graded by the official AST checker's rules")
        return ("function-calling mode: the row's messages, its functions as tools (BFCL's conversion); the tool "
                "calls graded by the official AST checker's rules")

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "mode": self.mode, "underscore_to_dot": self.dots_to_underscores}

    def _runs_as_one_subset(self, loader: DatasetLoader, root: Path) -> bool:
        return False  # every copy names its categories (a file each, or the subset column)

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        if subset not in CATEGORIES:
            raise ConfigError(f"dataset_args.bfcl_v3.subset_list: unknown subset {subset!r} "
                              f"(known: {', '.join(CATEGORIES)})")
        path = category_file(root, subset) if root.is_dir() else None
        if path is None:
            rows = loader.rows(root, split, None)[0]
            if rows and not any("subset" in row or "test_category" in row for row in rows[:1]):
                raise DatasetError(f"bfcl_v3: {root} has neither BFCL_v3_<category>.json files nor a table with a "
                                   f"'subset' column; got keys {sorted(rows[0])}")
            return [row for row in rows if row.get("subset", row.get("test_category")) == subset]
        rows = read_json_lines(path)
        for row in rows:
            row["data_file"] = path.name
        if "relevance" in subset:
            return rows
        answers_path = path.parent / "possible_answer" / path.name
        if not answers_path.is_file():
            raise DatasetError(f"bfcl_v3 {subset}: {path} has no possible answers at {answers_path}")
        answers = {answer.get("id"): answer.get("ground_truth") for answer in read_json_lines(answers_path)}
        for row in rows:
            if row.get("id") not in answers:
                raise DatasetError(f"bfcl_v3 {subset}: row {row.get('id')!r} has no possible answer in {answers_path}")
            row["ground_truth"] = answers[row["id"]]
        return rows

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        functions = _json_field(row.get("function", row.get("functions")))
        turns = _json_field(row.get("question", row.get("turns")))
        truth = _json_field(row.get("ground_truth"))
        if not isinstance(functions, list) or not isinstance(turns, list) or not turns \
                or not isinstance(turns[0], list):
            raise DatasetError(f"bfcl_v3 row {index} of {subset} needs 'function' (a list of schemas) and 'question' "
                               f"(a list of turns); got keys {sorted(row)}")
        if "relevance" not in subset and not isinstance(truth, list):
            raise DatasetError(f"bfcl_v3 row {row.get('id', index)} of {subset} has no ground truth")
        if len(turns) != 1:
            raise DatasetError(f"bfcl_v3 row {row.get('id', index)} of {subset} has {len(turns)} turns; only "
                               "single-turn categories are supported")
        messages = [{"role": m["role"], "content": m["content"]} for m in turns[0]]
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        tools = openai_tools(functions, self.dots_to_underscores) if self.mode == "fc" else None
        return Sample(id=str(row.get("id", f"{subset}_{index}")), subset=subset, tools=tools,
                      target=truth if "relevance" not in subset else None,
                      metadata={"question": question, "messages": messages, "functions": functions,
                                "ground_truth": truth if "relevance" not in subset else None,
                                **({"data_file": row["data_file"]} if "data_file" in row else {})})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        messages = sample.metadata["messages"]
        if self.mode == "prompt":
            messages = prompt_mode_messages(messages, sample.metadata["functions"])
        return [Message(role=m["role"], content=m["content"]) for m in messages]

    def score(self, sample: Sample, answer: str) -> Score:
        """An answer with no tool calls (text only)."""
        return self.grade(sample, [], answer)

    async def ascore_completion(self, sample: Sample, completion: Completion, answer: str, checker: Any) -> Score:
        calls = [(call.name, call.arguments) for call in completion.tool_calls] if self.mode == "fc" else []
        return self.grade(sample, calls, answer)

    def grade(self, sample: Sample, calls: list[tuple[str, str]], text: str) -> Score:
        """The checker's verdict on ``calls`` (or, with none, on the answer ``text``; in prompting mode, on the
        calls the text writes out, with the functions' own names)."""
        meta, prompting = sample.metadata, self.mode == "prompt"
        verdict = grade_calls(sample.subset, meta["functions"], meta["ground_truth"], calls, text,
                              dots_to_underscores=self.dots_to_underscores, prompting=prompting)
        extracted = [{name: arguments} for name, arguments in calls] if calls else (text or None)
        return Score(values={"acc": float(verdict.valid)}, extracted=extracted,
                     explanation=None if verdict.valid else f"{verdict.error_type}: {verdict.error}",
                     metadata={"error_type": verdict.error_type} if not verdict.valid else {})

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        """The report headed by the leaderboard's columns, computed from the per-category accuracies."""
        accuracies = {s.name: (s.metrics["acc"].score, s.metrics["acc"].num) for s in report.subsets
                      if "acc" in s.metrics and s.metrics["acc"].score is not None}
        columns = aggregate_scores(accuracies)  # type: ignore[arg-type]
        if not columns:
            return None
        extra = {name: MetricScore(score=value, num=count) for name, (value, count) in columns.items()}
        update: dict[str, Any] = {"metrics": {**extra, **report.metrics}}
        if SINGLE_TURN in columns:
            update.update(main_metric=SINGLE_TURN, score=columns[SINGLE_TURN][0])
        return report.model_copy(update=update)

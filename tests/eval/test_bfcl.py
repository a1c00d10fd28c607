"""BFCL: the AST checker against the official verdicts, the category aggregates, and a run on the simulator."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from assay.eval.scoring.bfcl import grade_calls, standardize

from .conftest import FIXTURES

pytestmark = pytest.mark.timeout(120)
CONFORMANCE = FIXTURES / "bfcl" / "conformance.jsonl"


def _rows() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in CONFORMANCE.read_bytes().splitlines() if line.strip()]


def test_every_verdict_and_error_type_equals_the_official_checkers():
    rows = _rows()
    disagreements, verdicts = [], Counter()
    for row in rows:
        for case in row["cases"]:
            calls = [(name, arguments) for name, arguments in case.get("tool_calls") or []]
            mine = grade_calls(row["category"], row["function"], row["ground_truth"], calls, case.get("text"),
                               dots_to_underscores=case["dots_to_underscores"])
            verdicts[case["valid"]] += 1
            if (mine.valid, "" if mine.valid else mine.error_type) != (case["valid"], case["error_type"]):
                disagreements.append((row["id"], case["variant"], mine, case["valid"], case["error_type"]))
    assert disagreements == []
    assert (len(rows), verdicts[True], verdicts[False]) == (46, 289, 703)
    assert {row["category"] for row in rows} == {
        "simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple",
        "live_parallel", "live_parallel_multiple", "irrelevance", "live_irrelevance", "live_relevance"}


def test_prompting_mode_verdicts_equal_the_official_checkers_too():
    rows = _rows()
    disagreements, verdicts = [], Counter()
    for row in rows:
        for case in row["prompt_cases"]:
            mine = grade_calls(row["category"], row["function"], row["ground_truth"], [], case["text"],
                               dots_to_underscores=False, prompting=True)
            verdicts[case["valid"]] += 1
            if (mine.valid, "" if mine.valid else mine.error_type) != (case["valid"], case["error_type"]):
                disagreements.append((row["id"], case["variant"], mine, case["valid"], case["error_type"]))
    assert disagreements == []
    assert (verdicts[True], verdicts[False]) == (238, 672)


def test_prompting_mode_computes_arithmetic_but_never_runs_code():
    from assay.eval.scoring.bfcl import DecodeError, decode_python_calls

    assert decode_python_calls("```\n[f(a=2*3, b=-1.5, c='x' + 'y', d=[1, 2][0])]\n```") == \
        [{"f": {"a": 6, "b": -1.5, "c": "xy", "d": "[1, 2][0]"}}]
    for text in ("[f(a=len('abc') + 1)]", "[f(a=__import__('os').getpid() + 0)]", "[f(a=9 ** 99999)]"):
        with pytest.raises(DecodeError):  # the official decoder evals these; assay refuses to decode them
            decode_python_calls(text)


def test_the_set_exercises_each_rule():
    by_variant: dict[str, set[bool]] = {}
    for row in _rows():
        for case in row["cases"]:
            kind = case["variant"].rsplit(":", 1)[-1]
            by_variant.setdefault(kind, set()).add(case["valid"])
    # Accepted somewhere: ints for floats, string case/punctuation, parallel in any order.
    for kind in ("int_for_float", "string_variant_0", "string_variant_1", "order_reversed", "correct_required_only"):
        assert True in by_variant[kind], kind
    # Never accepted: wrong types, missing calls, a wrong name, invalid JSON, bools for ints.
    for kind in ("wrong_type", "missing_call", "extra_call", "wrong_name", "bool_for_int", "float_for_int"):
        assert by_variant[kind] == {False}, kind


def test_string_normalisation():
    assert standardize("April 1, 2024") == standardize("april 1 2024") == "april12024"
    assert standardize("New-York_City./*^") == "newyorkcity"
    assert standardize("it's") == 'it"s'


# ---- the benchmark on the simulator -------------------------------------------------------------------------

DATA = FIXTURES / "bfcl" / "data"  # real rows of the gorilla repository's BFCL_v4 files (see the README)


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


# sample id → the replayed answer (tool calls, or text) and whether the official checker accepts it.
ANSWERS: dict[str, tuple[list[dict[str, Any]] | str, bool]] = {
    "simple_python_18": ([_call("number_analysis_prime_factors", number=123456)], True),
    "simple_python_97": ([_call("math_factorial", number="5")], False),  # a string for an integer
    "multiple_73": ([_call("religion_get_origin", religion="buddhism")], True),  # case is ignored
    # The two calls in the other order, and the int 6 for the float height: accepted.
    "parallel_4": ([_call("calculate_bmi", height=5.6, weight=60), _call("calculate_bmi", height=6, weight=80)], True),
    "parallel_75": ([_call("number_analysis_prime_factors", number=45),
                     _call("number_analysis_prime_factors", number=100)], False),  # a call missing
    "parallel_multiple_35": ([_call("text_analysis_sentiment_analysis", text="my_journal_entry_text"),
                              _call("image_processing_object_identification", image_url="my_backyard_image_url")],
                             True),
    "irrelevance_8": ("None of these functions computes integrals.", True),
    "irrelevance_49": ([_call("get_co_ordinate", location="Berlin")], False),
    "live_simple_116-72-0": ([_call("sum_numbers", numbers_list=[133, 34])], False),  # ints in a float array
    "live_simple_247-129-0": ([_call("version_api_VersionApi_get_version")], True),
    "live_multiple_36-12-0": ([_call("todo_add", content="go for shopping at 9 pm")], True),
    "live_parallel_14-10-0": ([_call("get_current_weather", location="Boston, MA"),
                               _call("get_current_weather", location="San Francisco, CA", unit="celsius")], False),
    "live_parallel_multiple_16-14-0": ([_call("get_area_of_square", size=5),
                                        _call("get_current_weather", location="Queenstown, Singapore")], True),
    "live_irrelevance_123-9-3": ("Use temp.split('=', 1).", True),
    "live_relevance_3-3-0": ([_call("open_meteo_api_fetch_weather_data", latitude=40.71, longitude=-74.0)], True),
}


def _bfcl_replay(path, samples) -> Any:
    with path.open("wb") as handle:
        for sample in samples:
            answer, _ = ANSWERS[sample.id]
            entry: dict[str, Any] = {"prompt": sample.metadata["question"]}
            entry["tool_calls" if isinstance(answer, list) else "response"] = answer
            handle.write(orjson.dumps(entry) + b"\n")
    return path


def _bfcl_task(tmp_path, replay, args: dict[str, Any] | None = None, **extra: Any) -> Any:
    from assay.eval import TaskConfig

    from .conftest import sim_args

    return TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["bfcl_v3"],
                      dataset_args={"bfcl_v3": args or {"dataset_id": str(DATA)}}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4, **extra)


def test_a_run_on_the_simulator_gives_the_hand_computed_scores(tmp_path):
    from assay.eval import run_task

    from .conftest import load_samples

    samples = load_samples("bfcl_v3", dataset_id=str(DATA))
    assert sorted(s.id for s in samples) == sorted(ANSWERS)
    result = run_task(_bfcl_task(tmp_path, _bfcl_replay(tmp_path / "replay.jsonl", samples)), show=False)
    report = result.reports["bfcl_v3"]
    by_subset = {s.name: (s.metrics["acc"].score, s.num) for s in report.subsets}
    assert by_subset == {"simple": (0.5, 2), "multiple": (1.0, 1), "parallel": (0.5, 2), "parallel_multiple": (1.0, 1),
                         "irrelevance": (0.5, 2), "live_simple": (0.5, 2), "live_multiple": (1.0, 1),
                         "live_parallel": (0.0, 1), "live_parallel_multiple": (1.0, 1),
                         "live_irrelevance": (1.0, 1), "live_relevance": (1.0, 1)}
    metrics = {name: score.score for name, score in report.metrics.items()}
    expected = {
        "non_live_ast_acc": (0.5 + 1 + 0.5 + 1) / 4,  # unweighted over the four AST categories
        "non_live_acc": (0.5 + 1 + 0.5 + 1 + 0.5) / 5,  # ... and irrelevance
        "live_ast_acc": (0.5 * 2 + 1 + 0 + 1) / 5,  # weighted by samples: 0.6, not the plain mean 0.625
        "live_acc": (0.5 * 2 + 1 + 0 + 1 + 1 + 1) / 7,
        "irrelevance_acc": (0.5 + 1.0) / 2,
        "relevance_acc": 1.0,
        "single_turn_acc": ((0.5 + 1 + 0.5 + 1 + 0.5) / 5 + 5 / 7) / 2,
        "acc": 10 / 15,  # pooled over the 15 samples
    }
    assert metrics == pytest.approx(expected)
    assert report.main_metric == "single_turn_acc" and report.score == pytest.approx(expected["single_turn_acc"])
    assert sum(1 for _, ok in ANSWERS.values() if ok) == 10
    # The recorded predictions keep the tool calls, and each sample's verdict is the one planned.
    stored = [orjson.loads(line) for line in (result.run_dir / "predictions" / "bfcl_v3.jsonl").read_bytes()
              .splitlines()]
    for line in stored:
        answer, accepted = ANSWERS[line["sample"]["id"]]
        assert line["scores"][0]["values"]["acc"] == float(accepted), line["sample"]["id"]
        calls = line["completions"][0]["tool_calls"]
        assert [c["name"] for c in calls] == ([c["name"] for c in answer] if isinstance(answer, list) else [])
    rejected = {line["sample"]["id"]: line["scores"][0]["metadata"].get("error_type") for line in stored}
    assert rejected["simple_python_97"] == "type_error:simple"
    assert rejected["live_simple_116-72-0"] == "type_error:nested"
    assert rejected["parallel_75"] == "parallel_function_checker_no_order:wrong_count"


def test_a_resumed_run_regrades_the_stored_tool_calls_without_asking_again(tmp_path):
    from assay.eval import run_task

    from .conftest import load_samples

    samples = load_samples("bfcl_v3", dataset_id=str(DATA))
    replay = _bfcl_replay(tmp_path / "replay.jsonl", samples)
    first = run_task(_bfcl_task(tmp_path, replay), show=False)
    predictions = first.run_dir / "predictions" / "bfcl_v3.jsonl"
    lines = [orjson.loads(line) for line in predictions.read_bytes().splitlines()]
    for line in lines:  # as if graded by a version that lacked acc: the runner must grade them again
        line["scores"] = [{"values": {}} for _ in line["scores"]]
    predictions.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    replay.write_bytes(b"".join(orjson.dumps({"prompt": s.metadata["question"], "response": "changed"}) + b"\n"
                                for s in samples))  # a request now would get text, and score otherwise
    again = run_task(_bfcl_task(tmp_path, replay, use_cache=str(first.run_dir)), show=False)
    assert again.run_dir == first.run_dir
    assert again.reports["bfcl_v3"].metrics == first.reports["bfcl_v3"].metrics
    stored = [orjson.loads(line) for line in predictions.read_bytes().splitlines()]
    regraded = {line["sample"]["id"]: line for line in stored}
    assert all(r["scores"][0]["values"]["acc"] == float(ANSWERS[i][1]) for i, r in regraded.items())
    assert all(r["completions"][0]["text"] != "changed" for r in regraded.values())


def test_the_hub_file_names_and_evalscopes_one_table_copy_load_the_same_samples(tmp_path):
    import shutil

    from .conftest import load_samples

    v4 = load_samples("bfcl_v3", dataset_id=str(DATA))
    # The Hugging Face copy's names: BFCL_v3_<category>.json, simple rather than simple_python.
    v3_dir = tmp_path / "hf"
    (v3_dir / "possible_answer").mkdir(parents=True)
    for path in DATA.rglob("BFCL_v4_*.json"):
        name = path.name.replace("BFCL_v4_", "BFCL_v3_").replace("simple_python", "simple")
        shutil.copy(path, v3_dir / path.relative_to(DATA).parent / name)
    v3 = load_samples("bfcl_v3", dataset_id=str(v3_dir))
    # EvalScope's table: one row per sample, nested fields as JSON text, the category in "subset".
    table = tmp_path / "table" / "train.jsonl"
    table.parent.mkdir()
    with table.open("wb") as handle:
        for sample in v4:
            handle.write(orjson.dumps({
                "id": sample.id, "subset": sample.subset, "turns": orjson.dumps([sample.metadata["messages"]]).decode(),
                "functions": orjson.dumps(sample.metadata["functions"]).decode(),
                "ground_truth": orjson.dumps(sample.metadata["ground_truth"]).decode()}) + b"\n")
    one_table = load_samples("bfcl_v3", dataset_id=str(table.parent))

    def view(samples: list) -> list:
        return sorted((s.id, s.subset, s.messages, s.tools, s.metadata["ground_truth"]) for s in samples)

    assert len(v4) == 15 and view(v3) == view(v4) == view(one_table)
    assert {s.metadata["data_file"] for s in v3 if s.subset == "simple"} == {"BFCL_v3_simple.json"}
    subset = load_samples("bfcl_v3", dataset_id=str(DATA), subset_list=["simple_python", "live_relevance"])
    assert [s.subset for s in subset] == ["simple", "simple", "live_relevance"]


@pytest.mark.parametrize("subsets,message", [(["java"], "not supported"), (["multi_turn_base"], "not supported"),
                                             (["simplex"], "unknown subset")])
def test_categories_outside_the_python_ast_set_are_refused_in_one_line(subsets, message):
    from assay.errors import ConfigError

    from .conftest import load_samples

    with pytest.raises(ConfigError, match=message):
        load_samples("bfcl_v3", dataset_id=str(DATA), subset_list=subsets)


def test_functions_go_out_as_bfcl_converts_them_for_function_calling_models():
    from assay.eval.benchmarks.bfcl import openai_tools

    function = {"name": "geo.distance", "description": "Distance.", "parameters": {"type": "dict", "required": ["a"],
                "properties": {"a": {"type": "tuple", "items": {"type": "float"}, "description": "From."},
                               "b": {"type": "float", "description": "Scale."},
                               "c": {"type": "dict", "properties": {"x": {"type": "any", "description": "X."}}},
                               "d": {"description": "No type."}}}}
    [tool] = openai_tools([function])
    assert tool["type"] == "function"
    sent = tool["function"]
    assert sent["name"] == "geo_distance" and sent["description"].endswith("in Python 3 syntax.")
    props = sent["parameters"]["properties"]
    assert sent["parameters"]["type"] == "object" and sent["parameters"]["required"] == ["a"]
    assert props["a"] == {"type": "array", "items": {"type": "number"}, "description": "From."}
    assert props["b"] == {"type": "number", "format": "float", "description": "Scale. This is a float type value."}
    assert props["c"]["type"] == "object" and props["c"]["properties"]["x"]["type"] == "string"
    assert props["d"]["type"] == "string"
    assert function["name"] == "geo.distance"  # the checker keeps the original schema


def test_aggregates_follow_the_leaderboard_formulas():
    from assay.eval.scoring.bfcl import aggregate_scores

    accuracies = {"simple": (0.9, 400), "multiple": (0.8, 200), "parallel": (0.7, 200), "parallel_multiple": (0.6, 200),
                  "irrelevance": (0.5, 240), "live_simple": (0.8, 258), "live_multiple": (0.7, 1053),
                  "live_parallel": (0.5, 16), "live_parallel_multiple": (0.5, 24), "live_irrelevance": (0.9, 882),
                  "live_relevance": (1.0, 18)}
    columns = {name: value for name, (value, _) in aggregate_scores(accuracies).items()}
    live = (0.8 * 258 + 0.7 * 1053 + 0.5 * 16 + 0.5 * 24 + 0.9 * 882 + 1.0 * 18) / (258 + 1053 + 16 + 24 + 882 + 18)
    assert columns == pytest.approx({
        "non_live_ast_acc": 0.75, "non_live_acc": 0.7, "live_acc": live,
        "live_ast_acc": (0.8 * 258 + 0.7 * 1053 + 0.5 * 16 + 0.5 * 24) / (258 + 1053 + 16 + 24),
        "irrelevance_acc": 0.7, "relevance_acc": 1.0, "single_turn_acc": (0.7 + live) / 2})
    partial = aggregate_scores({"simple": (1.0, 2), "multiple": (0.0, 2)})
    assert partial == {}  # a column missing a category is left out, not averaged over what ran


GOLDEN = FIXTURES.parent / "golden" / "bfcl_v3_prompts.json"


def test_the_messages_and_tools_sent_match_the_golden_snapshot():
    import json
    import os

    from .conftest import load_samples

    samples = load_samples("bfcl_v3", dataset_id=str(DATA), subset_list=["simple", "parallel_multiple"], limit=1)
    rendered = {s.id: {"messages": [m.model_dump(exclude_none=True) for m in s.messages or []], "tools": s.tools}
                for s in samples}
    if os.environ.get("ASSAY_UPDATE_GOLDEN") or not GOLDEN.exists():
        GOLDEN.write_text(json.dumps(rendered, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert rendered == json.loads(GOLDEN.read_text(encoding="utf-8")), \
        "a prompt or tool changed: bump bfcl_v3's version and rerun with ASSAY_UPDATE_GOLDEN=1"


PROMPT_ANSWERS = {
    "simple_python_18": ("[number_analysis.prime_factors(number=123456)]", True),
    "simple_python_97": ("[math_factorial(number=5)]", False),  # prompting mode keeps the dotted names
    "parallel_4": ("```\n[calculate_bmi(height=5.6, weight=60), calculate_bmi(height=6, weight=80)]\n```", True),
    "parallel_75": ("[number_analysis.prime_factors(number=45), number_analysis.prime_factors(number=100), "
                    "number_analysis.prime_factors(number='150')]", False),
    "irrelevance_8": ("None of these functions computes integrals.", True),
    "irrelevance_49": ("[get_co_ordinate(location='Berlin')]", False),
}


def test_prompting_mode_on_the_simulator(tmp_path):
    from assay.eval import run_task

    from .conftest import load_samples

    args = {"dataset_id": str(DATA), "subset_list": ["simple", "parallel", "irrelevance"],
            "extra_params": {"mode": "prompt"}}
    samples = load_samples("bfcl_v3", **args)
    assert all(s.tools is None and s.messages[0].role == "system" for s in samples)
    assert samples[0].messages[0].text().startswith("You are an expert in composing functions.You are given")
    replay = tmp_path / "replay.jsonl"
    replay.write_bytes(b"".join(orjson.dumps({"prompt": s.metadata["question"], "response": PROMPT_ANSWERS[s.id][0]})
                                + b"\n" for s in samples))
    report = run_task(_bfcl_task(tmp_path, replay, args), show=False).reports["bfcl_v3"]
    assert {s.name: s.metrics["acc"].score for s in report.subsets} == {"simple": 0.5, "parallel": 0.5,
                                                                         "irrelevance": 0.5}
    assert report.main_metric == "acc" and report.score == 0.5  # no leaderboard column has all its categories
    assert "prompting mode" in (report.protocol or "")


@pytest.mark.parametrize("extra,message", [
    ({"eval_type": "checkpoint"}, "bfcl_v3 offers the model tools, which the checkpoint backend cannot send"),
    ({"mode": "xml"}, "extra_params.mode: Input should be 'fc' or 'prompt' (got 'xml')"),
    ({"subset_list": ["javascript"]}, "javascript not supported"),
])
def test_the_cli_refuses_what_cannot_run_in_one_line_before_any_run_folder(tmp_path, extra, message):
    import json
    import os
    import subprocess
    import sys

    args: dict[str, Any] = {"dataset_id": str(DATA)}
    if "mode" in extra:
        args["extra_params"] = {"mode": extra["mode"]}
    if "subset_list" in extra:
        args["subset_list"] = extra["subset_list"]
    backend = ["--eval-type", "checkpoint", "--model", str(tmp_path / "no-weights")] if "eval_type" in extra \
        else ["--api-url", "http://127.0.0.1:9/v1", "--model", "m"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "assay", "eval", *backend, "--datasets", "bfcl_v3",
                             "--dataset-args", json.dumps({"bfcl_v3": args}), "--work-dir", str(tmp_path / "out")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bfcl_rows_in_a_collection_offer_their_tools_and_are_graded_on_the_tool_calls(tmp_path):
    from assay.collections import CollectionSchema, DatasetInfo, WeightedSampler
    from assay.eval import run_task
    from assay.utils.io import dump_jsonl_data

    schema = CollectionSchema(name="Tools", datasets=[
        DatasetInfo(name="bfcl_v3", weight=1, task_type="function_calling", args={"dataset_id": str(DATA)})])
    items = WeightedSampler(schema, dataset_hub="local").sample(10**8)  # every fixture row
    assert len(items) == 15 and all(item.sample.tools or "relevance" in item.sample.subset for item in items)
    collection = dump_jsonl_data(items, tmp_path / "set.jsonl")
    replay = _bfcl_replay(tmp_path / "replay.jsonl", [item.sample for item in items])
    task = _bfcl_task(tmp_path, replay).model_dump()
    task.update(datasets=["data_collection"], dataset_args={"data_collection": {"dataset_id": str(collection)}})
    from assay.eval import TaskConfig

    result = run_task(TaskConfig(**task), show=False)
    lines = [orjson.loads(line) for line in (result.run_dir / "predictions" / "data_collection.jsonl").read_bytes()
             .splitlines()]
    graded = {line["sample"]["metadata"]["collection"]["sample_id"]: line["scores"][0]["values"]["acc"]
              for line in lines}
    assert graded == {sample_id: float(accepted) for sample_id, (_, accepted) in ANSWERS.items()}


def test_evalscopes_extra_params_choose_the_mode_and_the_names():
    from assay.errors import ConfigError
    from assay.eval.benchmarks.bfcl import BFCL, bfcl_mode
    from assay.eval.config import DatasetArgs

    from .conftest import load_samples

    assert bfcl_mode({}) == ("fc", True)
    assert bfcl_mode({"is_fc_model": False}) == ("prompt", False)
    assert bfcl_mode({"is_fc_model": True, "underscore_to_dot": False}) == ("fc", False)
    with pytest.raises(ConfigError, match="false in prompt mode"):
        bfcl_mode({"mode": "prompt", "underscore_to_dot": True})
    dotted = load_samples("bfcl_v3", dataset_id=str(DATA), subset_list=["simple"],
                          extra_params={"underscore_to_dot": False})
    assert dotted[0].tools[0]["function"]["name"] == "number_analysis.prime_factors"
    call = [("number_analysis.prime_factors", '{"number": 123456}')]
    assert BFCL(DatasetArgs(extra_params={"underscore_to_dot": False})).grade(dotted[0], call, "").values["acc"] == 1.0
    assert BFCL(DatasetArgs()).grade(dotted[0], call, "").values["acc"] == 0.0  # "_" names expected

"""Pipeline overhead of `assay eval`: N MMLU-shaped samples against the zero-latency simulator.

The simulator runs in its own process (``SimProcess``: fixed latency, 0 ms to first token and between
tokens, 8-token answers), so what is measured is the evaluation pipeline: prompt building, the client,
concurrency, extraction, scoring and writing predictions and reports. Prints samples/s and peak RSS.

With ``--evalscope PYTHON`` (the interpreter of a venv where EvalScope is installed, e.g.
/tmp/es/bin/python), EvalScope runs in the same run against the same simulator on the same questions
(its ``general_mcq`` benchmark reading a local JSONL file, eval_type openai_api, the same batch size and
an English single-answer prompt like its MMLU one), and the ratio of the two samples/s is printed. Both
are timed from just before their ``run_task`` to its return, so interpreter start and imports count for
neither.

With ``--lm-eval PYTHON`` the same for lm-evaluation-harness (local-chat-completions, a local generate_until
task from a YAML file, num_concurrent = the batch size, chat template applied).

Usage: python bench/eval_pipeline.py --samples 10000 [--evalscope /tmp/es/bin/python] [--lm-eval /tmp/lmv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_OUTPUT_TOKENS = 8

# EvalScope's MultipleChoiceTemplate.SINGLE_ANSWER (its general_mcq default is a Chinese template).
_EVALSCOPE_PROMPT = (
    "Answer the following multiple choice question. The entire content of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}.\n\n"
    "{question}\n\n{choices}"
)

# Runs inside EvalScope's venv; prints one JSON line with its elapsed time and peak RSS.
_EVALSCOPE_RUNNER = """
import json, resource, sys, time
from evalscope import TaskConfig, run_task
spec = json.loads(sys.argv[1])
task = TaskConfig(**spec)
start = time.perf_counter()
run_task(task)
elapsed_s = time.perf_counter() - start
rss_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("BENCH " + json.dumps({"elapsed_s": elapsed_s, "rss_mb": rss_kb / 1024}))
"""

# The same for lm-evaluation-harness: a local task (a YAML file) run with simple_evaluate.
_LM_EVAL_RUNNER = """
import json, resource, sys, time
from lm_eval import simple_evaluate
from lm_eval.tasks import TaskManager
spec = json.loads(sys.argv[1])
manager = TaskManager(include_path=spec.pop("include_path"))
start = time.perf_counter()
simple_evaluate(task_manager=manager, **spec)
elapsed_s = time.perf_counter() - start
rss_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("BENCH " + json.dumps({"elapsed_s": elapsed_s, "rss_mb": rss_kb / 1024}))
"""

# An MMLU-shaped generate_until task over a local JSONL file, with the prompt used for EvalScope.
_LM_EVAL_TASK = """task: mmlu_bench
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Answer the following multiple choice question. The entire content of your response should be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D.\\n\\n{{{{question}}}}\\n\\nA) {{{{choices[0]}}}}\\nB) {{{{choices[1]}}}}\\nC) {{{{choices[2]}}}}\\nD) {{{{choices[3]}}}}"
doc_to_target: "{{{{['A','B','C','D'][answer]}}}}"
generation_kwargs:
  until: []
  max_gen_toks: {max_tokens}
filter_list:
  - name: get-answer
    filter:
      - function: regex
        regex_pattern: "ANSWER: ([A-D])"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""


@dataclass(frozen=True)
class Measurement:
    """One tool's run: how many samples, how long, and its peak resident memory."""

    tool: str
    samples: int
    elapsed_s: float
    rss_mb: float

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.elapsed_s

    def line(self) -> str:
        return (f"{self.tool:<10} samples: {self.samples}  elapsed: {self.elapsed_s:.2f}s  "
                f"samples/s: {self.samples_per_s:.0f}  peak RSS: {self.rss_mb:.0f} MB")


def _questions(samples: int) -> list[dict[str, object]]:
    return [{"question": f"Question {i}: which option is right?",
             "choices": [f"opt {i} a", f"opt {i} b", f"opt {i} c", f"opt {i} d"], "answer": i % 4}
            for i in range(samples)]


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _run_assay(questions: list[dict[str, object]], api_url: str, batch: int, tmp: Path) -> Measurement:
    from assay.eval import TaskConfig, run_task

    data = tmp / "mmlu"
    _write_jsonl(data / "anatomy" / "test.jsonl", [{**q, "subject": "anatomy"} for q in questions])
    task = TaskConfig(
        eval_type="openai_api", api_url=api_url, model="bench", datasets=["mmlu"], eval_batch_size=batch,
        dataset_args={"mmlu": {"dataset_id": str(data), "subset_list": ["anatomy"]}},
        work_dir=str(tmp / "assay-out"), generation_config={"max_tokens": _OUTPUT_TOKENS})
    start = time.perf_counter()
    run_task(task, show=False)
    elapsed_s = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Measurement("assay", len(questions), elapsed_s, rss_mb)


def _run_evalscope(python: str, questions: list[dict[str, object]], api_url: str, batch: int,
                   tmp: Path) -> Measurement:
    # general_mcq reads {subset}_{split}.jsonl with the choices as columns A..D and the answer a letter.
    data = tmp / "general_mcq"
    _write_jsonl(data / "default_val.jsonl",
                 [{"id": i, "question": q["question"], **dict(zip("ABCD", q["choices"])),  # type: ignore[arg-type]
                   "answer": "ABCD"[q["answer"]]} for i, q in enumerate(questions)])  # type: ignore[index]
    spec = {
        "model": "bench", "api_url": api_url, "api_key": "EMPTY", "eval_type": "openai_api",
        "datasets": ["general_mcq"], "eval_batch_size": batch, "no_timestamp": True,
        "dataset_args": {"general_mcq": {"local_path": str(data), "subset_list": ["default"],
                                         "prompt_template": _EVALSCOPE_PROMPT}},
        "generation_config": {"max_tokens": _OUTPUT_TOKENS}, "work_dir": str(tmp / "evalscope-out"),
    }
    return _run_child("EvalScope", python, _EVALSCOPE_RUNNER, spec, len(questions), tmp)


def _run_lm_eval(python: str, questions: list[dict[str, object]], api_url: str, batch: int,
                 tmp: Path) -> Measurement:
    data = tmp / "lm_eval" / "mmlu_bench.jsonl"
    _write_jsonl(data, questions)
    (data.parent / "mmlu_bench.yaml").write_text(_LM_EVAL_TASK.format(data=data, max_tokens=_OUTPUT_TOKENS))
    spec = {
        "model": "local-chat-completions", "tasks": ["mmlu_bench"], "include_path": str(data.parent),
        "apply_chat_template": True,
        "model_args": f"model=bench,base_url={api_url}/chat/completions,num_concurrent={batch},max_retries=1,"
                      "tokenized_requests=False,tokenizer_backend=None",
    }
    return _run_child("lm-eval", python, _LM_EVAL_RUNNER, spec, len(questions), tmp)


def _run_child(tool: str, python: str, runner: str, spec: dict[str, object], samples: int,
               tmp: Path) -> Measurement:
    """Run another tool in its own venv's interpreter (offline) and read back its one BENCH line."""
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    log = tmp / f"{tool}.log"
    with log.open("w") as out:
        done = subprocess.run([python, "-c", runner, json.dumps(spec)], stdout=out, stderr=subprocess.STDOUT,
                              cwd=tmp, env=env)
    lines = log.read_text().splitlines()
    result = next((line for line in reversed(lines) if line.startswith("BENCH ")), None)
    if done.returncode != 0 or result is None:
        sys.exit(f"{tool} failed (exit {done.returncode}); last lines of its log:\n" + "\n".join(lines[-20:]))
    measured = json.loads(result.removeprefix("BENCH "))
    return Measurement(tool, samples, measured["elapsed_s"], measured["rss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=256, help="Concurrent requests (eval_batch_size), both tools.")
    parser.add_argument("--evalscope", metavar="PYTHON",
                        help="Python of a venv with EvalScope installed: run it too, against the same simulator.")
    parser.add_argument("--lm-eval", metavar="PYTHON",
                        help="Python of a venv with lm-evaluation-harness: run it too (local-chat-completions).")
    args = parser.parse_args()
    from assay.sim import SimConfig, SimProcess

    questions = _questions(args.samples)
    config = SimConfig(latency_model="fixed", ttft_ms=0, itl_ms=0, output_len=str(_OUTPUT_TOKENS), seed=1)
    with tempfile.TemporaryDirectory() as tmp_dir, SimProcess(config) as sim:
        tmp = Path(tmp_dir)
        measurements = [_run_assay(questions, sim.base_url, args.batch, tmp)]
        if args.evalscope:
            measurements.append(_run_evalscope(args.evalscope, questions, sim.base_url, args.batch, tmp))
        if args.lm_eval:
            measurements.append(_run_lm_eval(args.lm_eval, questions, sim.base_url, args.batch, tmp))
    for measurement in measurements:
        print(measurement.line())
    assay, *others = measurements
    for other in others:
        print(f"assay / {other.tool} samples/s: {assay.samples_per_s / other.samples_per_s:.2f}x")


if __name__ == "__main__":
    main()

"""The ``checkpoint`` backend end to end on a tiny random checkpoint built in the test session.

Its answers are nonsense, so the test asserts the pipeline: prompts through the checkpoint's chat template,
batched generation, every prediction written, a report produced, no errors.
"""

from __future__ import annotations

import orjson
import pytest

from assay.eval import TaskConfig, run_task

from .conftest import FIXTURES

pytestmark = [pytest.mark.serving, pytest.mark.timeout(300)]


def test_a_local_checkpoint_runs_a_benchmark_in_batches(tiny_checkpoint, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    from assay.models.checkpoint import CheckpointModel

    batches: list[int] = []
    generate_batch = CheckpointModel._generate_batch

    def counting(self, requests):
        batches.append(len(requests))
        return generate_batch(self, requests)

    monkeypatch.setattr(CheckpointModel, "_generate_batch", counting)
    task = TaskConfig(eval_type="llm_ckpt", model=str(tiny_checkpoint), model_args={"device": "cpu"},
                      datasets=["gsm8k"], dataset_args={"gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")}},
                      eval_batch_size=4, generation_config={"max_tokens": 8, "temperature": 0,
                                                            "extra_body": {"chat_template_kwargs": {}}},
                      work_dir=str(tmp_path))
    result = run_task(task, show=False)

    assert sum(batches) == 4 and max(batches) > 1, f"not batched: {batches}"
    report = result.reports["gsm8k"]
    assert report.num == 4 and report.failed_samples == 0 and report.metrics["acc"].ungraded == 0
    assert (result.run_dir / "reports" / "gsm8k.json").is_file()
    lines = [orjson.loads(x) for x in (result.run_dir / "predictions" / "gsm8k.jsonl").read_bytes().splitlines()]
    assert len(lines) == 4
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_checkpoint))
    for line in lines:
        [completion] = line["completions"]
        assert completion["error"] is None and completion["usage"]["source"] == "tokenizer"
        assert 1 <= completion["usage"]["completion_tokens"] <= 8
        # The prompt went through the chat template: its token count is the templated prompt's.
        messages = [{"role": m["role"], "content": m["content"]} for m in line["sample"]["messages"]]
        templated = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert completion["usage"]["prompt_tokens"] == len(tokenizer(templated, add_special_tokens=False)["input_ids"])
    manifest = orjson.loads((result.run_dir / "manifest.json").read_bytes())
    assert manifest["status"] == "finished" and manifest["fingerprint"]["model"]["type"] == "checkpoint"


def test_completion_style_humaneval_continues_the_raw_prompt(tiny_checkpoint, tmp_path):
    """Completion-style HumanEval sends the prompt as it is: no chat template around it."""
    from transformers import AutoTokenizer

    task = TaskConfig(eval_type="checkpoint", model=str(tiny_checkpoint), model_args={"device": "cpu"},
                      datasets=["humaneval"], limit=2, eval_batch_size=2,
                      dataset_args={"humaneval": {"dataset_id": str(FIXTURES / "humaneval" / "test.jsonl"),
                                                  "extra_params": {"style": "completion"}}},
                      generation_config={"max_tokens": 4, "temperature": 0}, work_dir=str(tmp_path))
    result = run_task(task, show=False)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_checkpoint))
    lines = [orjson.loads(x) for x in (result.run_dir / "predictions" / "humaneval.jsonl").read_bytes().splitlines()]
    assert len(lines) == 2
    for line in lines:
        prompt = line["sample"]["prompt"]
        assert prompt and prompt == line["sample"]["metadata"]["question"]
        [completion] = line["completions"]
        assert completion["usage"]["prompt_tokens"] == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])

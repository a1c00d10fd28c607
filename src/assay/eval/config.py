"""``TaskConfig``: what to evaluate, against which model, how. One model fills the Python API, the CLI and YAML.

Field names follow EvalScope's ``TaskConfig`` so that switching is changing the import: ``model``,
``api_url``, ``api_key``, ``eval_type``, ``datasets``, ``dataset_args``, ``generation_config``,
``eval_batch_size``, ``limit``, ``repeats``, ``use_cache``, ``work_dir``, ``ignore_errors``, ``judge_strategy``,
``judge_model_args``, ``judge_worker_num``. ``preset`` names a model card's protocol (``assay.eval.presets``),
filled in under the fields given.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator

from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S, EndpointUrl, redact_url, scrub_secrets
from assay.client.endpoints import EndpointPolicy, one_or_several_urls, url_list
from assay.types.generation import GenerationConfig

from assay.models.registry import canonical_eval_type, eval_type_help, get_backend

# Any registered backend's name or alias (``assay.models.registry``); stored as the registered name.
EvalType = str
DatasetHub = Literal["huggingface", "modelscope", "local"]
JudgeStrategy = Literal["auto", "rule", "llm", "llm_recall", "rule_then_llm"]
# The issue tracker's name for EvalScope's llm_recall: the rule first, the judge where the rule finds no match.
_JUDGE_STRATEGY_ALIASES = {"rule_then_llm": "llm_recall"}


class DatasetArgs(BaseModel):
    """Per-benchmark settings (``dataset_args[name]``). An unknown key is an error that names the key."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str | None = Field(
        default=None, description="Hub id, or a local file/folder in the hub's schema (replaces the default).")
    local_path: str | None = Field(default=None, description="A local file or folder (EvalScope's older name).")
    subset_list: list[str] | None = Field(default=None, description="Subsets to run (default: all).")
    few_shot_num: int | None = Field(default=None, ge=0, description="Few-shot examples per prompt.")
    few_shot_random: bool = Field(default=False, description="Draw few-shot examples at random (seeded).")
    prompt_template: str | None = Field(
        default=None, description="Replaces the benchmark's prompt; {question} (and {choices}) are filled in.")
    system_prompt: str | None = None
    filters: dict[str, str] = Field(
        default_factory=dict,
        description="Applied in order to the answer before scoring: remove_until, regex (first group kept).")
    metric_list: list[str] | None = Field(default=None, description="Metrics to report (default: the benchmark's).")
    shuffle_choices: bool | None = Field(default=None, description="Shuffle multiple-choice options (seeded).")
    repeats: int | None = Field(
        default=None, ge=1, description="Answers per sample for this benchmark (default: the task's repeats).")
    extra_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, value: dict[str, str]) -> dict[str, str]:
        from assay.eval.filters import FILTERS

        for name in value:
            if name not in FILTERS:
                raise ValueError(f"unknown filter {name!r} (known: {', '.join(sorted(FILTERS))})")
        return value

    @property
    def source_override(self) -> str | None:
        return self.dataset_id or self.local_path

    def prompt_fingerprint(self) -> dict[str, Any]:
        """The settings that change what is asked, hence the answers (resume refuses when they differ).

        Subsets and metrics only choose what is asked or reported, and filters act on stored answers: a resumed
        run may change them (new samples are asked, stored answers re-scored, nothing asked twice).
        Repeats are compared apart (the run's ``repeats`` fingerprint), as the task-wide ones are.
        """
        return self.model_dump(exclude={"subset_list", "metric_list", "filters", "repeats"}, exclude_defaults=True)


class TaskConfig(BaseModel):
    """One evaluation task: a model and the benchmarks to run on it.

    ``generation_config.n`` > 1 means repeats (each answer is its own request, scored on its own, giving
    mean@n and pass@k). ``limit`` is per subset: an int, or a fraction of each subset when below 1.
    ``use_cache`` is the folder of an earlier run to continue: finished samples are kept, the rest asked.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    model: str | None = Field(default=None, description="Model name served by the API, or a checkpoint path.")
    api_url: EndpointUrl | list[EndpointUrl] | None = Field(
        default=None, description="OpenAI-compatible URL, with or without /chat/completions. Several (a list, or "
                                  "--api-url repeated): replicas of one model; they share the one request pool "
                                  "(eval_batch_size) and each answer records which endpoint gave it.")
    endpoint_policy: EndpointPolicy = Field(
        default="round-robin", description="With several api_url: round-robin, or least-loaded (the endpoint "
                                           "with the fewest of this run's requests in flight).")
    api_key: SecretStr | None = Field(default=None, description="API key (never written to any output).")
    eval_type: EvalType | None = Field(default=None, description=eval_type_help())
    model_args: dict[str, Any] = Field(
        default_factory=dict,
        description="The backend's settings, typed per backend (docs/eval.md, Backends): checkpoint (device, dtype, "
                    "device_map, revision, trust_remote_code), sim (SimConfig fields, e.g. replay_path), "
                    "openai_api (headers).")
    datasets: list[str] = Field(default_factory=list, description="Benchmarks to run, e.g. gsm8k math_500.")
    dataset_args: dict[str, DatasetArgs] = Field(default_factory=dict, description="Per-benchmark settings.")
    dataset_dir: str | None = Field(
        default=None, description="Dataset folder and hub cache (default $ASSAY_DATASET_DIR, else "
        "~/.cache/assay/datasets); <dir>/<benchmark> is used as a local copy if present (`assay data layout`).")
    dataset_hub: DatasetHub | None = Field(
        default=None, description="Download from this hub only (local: never download); unset: each benchmark's "
        "hubs in order.")
    generation_config: GenerationConfig = Field(
        default_factory=GenerationConfig, description="max_tokens, temperature, top_p, top_k, n, extra_body...")
    eval_batch_size: int = Field(default=8, ge=1, description="Requests in flight at once, across all benchmarks.")
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds a sample may take in all (its retries included); none: no limit.")
    read_timeout: float = Field(
        default=600.0, gt=0, description="Seconds without answer from the server (stream events with content, "
                                         "reasoning or usage; keep-alive bytes don't count) before a request fails.")
    total_timeout: float | None = Field(
        default=DEFAULT_TOTAL_TIMEOUT_S, gt=0,
        description="Seconds one request may take (each retry its own; an hour leaves room for long reasoning, "
                    "and a request that runs past it is not retried); none: no limit.")
    max_retries: int = Field(default=3, ge=0, description="Retries of 429/5xx/timeouts/dropped connections.")
    stream: bool = Field(default=True, description="Stream answers (long reasoning never hits the read timeout).")
    limit: float | None = Field(default=None, gt=0, description="Samples per subset (a fraction if below 1).")
    repeats: int = Field(
        default=1, ge=1, description="Answers per sample (mean@n; the report adds pass@n, maj@n and pass^n).")
    preset: str | None = Field(
        default=None, description="A model card's protocol (qwen3-thinking, qwen3-non-thinking, deepseek-r1) or a "
        "preset file: its generation_config and repeats per benchmark, under the values given (those win).")
    seed: int = Field(default=42, description="Seed for few-shot draws, choice shuffles and the server.")
    use_cache: str | None = Field(default=None, description="Folder of an earlier run to resume.")
    fresh: bool = Field(
        default=False, description="With use_cache: ignore the earlier run and start a new run folder (it is kept).")
    work_dir: str = Field(default="./outputs", description="Where run folders are written.")
    ignore_errors: bool = Field(
        default=False, description="Keep going when the server rejects requests (401, 404, down) and score "
                                   "failed samples as wrong; failures are recorded and counted either way.")
    judge_strategy: JudgeStrategy = Field(
        default="auto", description="auto (the benchmark's default), rule, llm (the judge grades every answer), "
                                    "llm_recall or rule_then_llm (the judge grades what the rule did not find "
                                    "correct); used by general_qa and the math benchmarks, others ignore it.")
    judge_model_args: dict[str, Any] = Field(
        default_factory=dict, description="The judge model: model_id, api_url, api_key, generation_config...")
    judge_worker_num: int = Field(default=1, ge=1, description="Judge requests in flight at once.")

    _preset: Any = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """The preset's values go in first, so that every key the caller gave (flag, YAML key, argument) wins."""
        if not isinstance(data, dict) or not data.get("preset"):
            return data
        from assay.eval.presets import apply_preset, load_preset

        return apply_preset(data, load_preset(str(data["preset"])))

    @field_validator("eval_type", mode="before")
    @classmethod
    def _canonical_eval_type(cls, value: Any) -> Any:
        return canonical_eval_type(value) if isinstance(value, str) else value

    @field_validator("judge_strategy", mode="before")
    @classmethod
    def _canonical_judge_strategy(cls, value: Any) -> Any:
        return _JUDGE_STRATEGY_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("api_url", mode="before")
    @classmethod
    def _api_urls(cls, value: Any) -> Any:
        return one_or_several_urls(value)

    @field_validator("datasets", mode="before")
    @classmethod
    def _datasets_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("limit")
    @classmethod
    def _whole_limit(cls, value: float | None) -> float | None:
        if value is not None and value >= 1 and value != int(value):
            raise ValueError("a limit of 1 or more must be a whole number")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> TaskConfig:
        if self.eval_type is None:
            self.eval_type = "openai_api" if self.api_url else "checkpoint"
        if self.generation_config.n > 1 and self.repeats == 1:
            self.repeats = self.generation_config.n
        for name, hint in get_backend(self.eval_type).requires.items():
            if not getattr(self, name):
                raise ValueError(f"eval_type {self.eval_type} needs {name}{hint}")
        if self.preset:
            from assay.eval.presets import load_preset

            self._preset = load_preset(self.preset)
        unknown = [name for name in self.dataset_args if name not in self.datasets]
        if unknown and self.datasets:
            raise ValueError(f"dataset_args for {unknown[0]!r}, which is not in datasets")
        return self

    @property
    def api_urls(self) -> list[str]:
        """Every endpoint URL (none for the checkpoint and sim backends)."""
        return url_list(self.api_url)

    @property
    def model_name(self) -> str:
        return self.model or ("assay-sim" if self.eval_type == "sim" else "model")

    def args_for(self, benchmark: str) -> DatasetArgs:
        return self.dataset_args.get(benchmark) or DatasetArgs()

    def repeats_for(self, benchmark: str) -> int:
        """Answers per sample of ``benchmark``: its ``dataset_args`` repeats (a preset sets AIME's), else the task's."""
        return self.args_for(benchmark).repeats or self.repeats

    @property
    def preset_record(self) -> dict[str, Any] | None:
        """The preset this task was filled from (name, sha256 of its file, path of a user's file), or None."""
        return self._preset.record() if self._preset is not None else None

    @property
    def preset_label(self) -> str | None:
        """``name (sha256 0123abcd4567)``, as reports name the preset; None without one."""
        return self._preset.label if self._preset is not None else None

    def public_dict(self) -> dict[str, Any]:
        """The config as written to config.yaml: JSON types only, never the API key nor a credential in a URL."""
        data = self.model_dump(mode="json", exclude={"api_key"})
        data["api_key"] = "***" if self.api_key is not None and self.api_key.get_secret_value() else None
        data["api_url"] = [redact_url(url) for url in self.api_url] if isinstance(self.api_url, list) else redact_url(
            self.api_url)
        data["model_args"] = {k: "***" if _secret_name(k) else v for k, v in data["model_args"].items()}
        data["judge_model_args"] = {k: "***" if _secret_name(k) else redact_url(v) if k == "api_url" and isinstance(v, str) else v
                                    for k, v in data["judge_model_args"].items()}
        return scrub_secrets(data)  # and at any depth: a baseline model's api_key in a benchmark's extra_params


def _secret_name(key: str) -> bool:
    return any(word in key.lower() for word in ("key", "token", "secret", "password"))

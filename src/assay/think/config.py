"""``ThinkConfig``: which finished eval runs to analyse, and how. One model fills the Python API, the CLI and YAML."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from assay.client.config import EndpointUrl

# EvalScope's switch words (its thinking-efficiency guide) plus the phrases of the issue that asked for this.
DEFAULT_MARKERS = (
    "alternatively", "but wait", "let me reconsider", "let me re-examine", "another way", "another approach",
    "another method", "another angle",
)

SplitStrategy = Literal["paragraphs", "markers", "llm"]
GroupBy = Literal["auto", "level", "subset"]


class JudgeConfig(BaseModel):
    """An OpenAI-compatible model that reads the numbered steps of a trace and names the first correct one
    (and, with ``--split llm``, cuts traces into steps).

    Only the settings: ``assay.eval.scoring.judge.make_judge`` turns them into eval's one ``LLMJudge`` (its
    client, retries, cache and error handling), so think's judge never drifts from eval's.
    """

    model_config = ConfigDict(extra="forbid")

    api_url: EndpointUrl = Field(description="OpenAI-compatible URL of the judge, with or without /chat/completions.")
    model: str = Field(description="The judge model's name.")
    api_key: SecretStr | None = Field(default=None, description="API key of the judge (never written out).")
    max_concurrency: int = Field(default=8, ge=1, description="Judge requests in flight at once.")
    max_tokens: int = Field(default=512, ge=1, description="Token limit of one judge answer.")
    max_retries: int = Field(default=3, ge=0, description="Retries of 429/5xx/timeouts.")
    read_timeout_s: float = Field(default=300.0, gt=0, description="Seconds without a byte before a request fails.")


class ThinkConfig(BaseModel):
    """A thinking-efficiency analysis of the predictions of finished ``assay eval`` runs.

    Each run folder's ``predictions/<dataset>.jsonl`` is read; every completion with reasoning is one trace.
    Token counts come from ``tokenizer_path`` when given, else from the server's ``reasoning_tokens`` that
    the run recorded (the position of the first correct step is then prorated by characters).
    """

    model_config = ConfigDict(extra="forbid")

    runs: list[str] = Field(description="Run folders of finished `assay eval` runs (one per model).")
    dataset: str = Field(description="The benchmark whose predictions to analyse, e.g. math_500.")
    labels: list[str] | None = Field(
        default=None, description="Names of the runs in the table and figure (default: each run's model).")
    tokenizer_path: str | None = Field(
        default=None, description="Local tokenizer (tokenizer.json or model folder) for token counts; "
                                  "without it the server's recorded reasoning_tokens are used.")
    split: SplitStrategy = Field(
        default="paragraphs", description="How to cut reasoning into steps: paragraphs (blank lines), markers, "
                                         "or llm (the --judge model names where each step begins; a reply that "
                                         "does not map onto the trace falls back to paragraphs, counted).")
    markers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MARKERS),
        description="Phrases that open a new thought (counted for the thought count; split points for "
                    "--split markers). Matched case-insensitively as whole words.")
    group_by: GroupBy = Field(
        default="auto", description="Group by the sample's level (auto: level when every sample has one, "
                                    "else subset) or by subset.")
    judge: JudgeConfig | None = Field(
        default=None, validate_default=True, description="LLM judge for the first correct step (JSON: api_url, model, api_key...); "
                                  "the rule runs too, and their agreement is reported.")
    limit: int | None = Field(default=None, ge=1, description="Samples per group and run (default: all).")
    output_dir: str = Field(default="./outputs/think", description="Where think.json, traces.jsonl and "
                                                                    "think.png are written.")

    @field_validator("runs")
    @classmethod
    def _some_runs(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one run folder")
        return value

    @field_validator("markers")
    @classmethod
    def _clean_markers(cls, value: list[str]) -> list[str]:
        cleaned = [m.strip().lower() for m in value if m.strip()]
        if not cleaned:
            raise ValueError("give at least one marker")
        return cleaned

    @field_validator("judge")
    @classmethod
    def _judge_for_llm_split(cls, value: JudgeConfig | None, info: ValidationInfo) -> JudgeConfig | None:
        if value is None and info.data.get("split") == "llm":
            raise PydanticCustomError(
                "judge_needed", "required with --split llm (the judge model cuts the reasoning into steps)")
        return value

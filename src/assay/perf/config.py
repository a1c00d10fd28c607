"""``PerfConfig``: every option of a load test, defined once for the CLI, YAML files and the Python API.

Field names follow EvalScope's ``evalscope perf`` flags (``--parallel``, ``--number``, ``--rate``,
``--dataset``, ``--max-tokens``...), so its users switch by changing one word.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator

from assay.client import ClientConfig, split_endpoint_url
from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S, EndpointUrl, redact_url
from assay.perf.ramps import parse_seconds
from assay.client.endpoints import EndpointPolicy, one_or_several_urls, url_list
from assay.types import GenerationConfig

API_KEY_ENV_VARS = ("ASSAY_API_KEY", "OPENAI_API_KEY")
DatasetName = Literal["openqa", "line_by_line", "random", "random_vl", "longalpaca", "sharegpt", "custom",
                      "embedding", "random_embedding", "rerank", "random_rerank"]
EndpointApi = Literal["chat", "completions", "embeddings", "rerank"]
# EvalScope's names for the embeddings and rerank APIs, and ours.
EMBEDDING_APIS = ("openai_embedding", "embedding")
RERANK_APIS = ("openai_rerank", "rerank")
SLO_KEYS = ("ttft_ms", "tpot_ms", "e2e_latency_ms")
_SLO_ALIASES = {"latency_ms": "e2e_latency_ms", "e2el_ms": "e2e_latency_ms", "ttft": "ttft_ms", "tpot": "tpot_ms"}


def parse_key_values(value: Any, *, what: str) -> Any:
    """``["a=1", "b=2"]`` (the CLI form) → ``{"a": "1", "b": "2"}``; mappings pass through."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        value = [value]
    out: dict[str, str] = {}
    for item in value:
        key, sep, val = str(item).partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} must be KEY=VALUE pairs, got {item!r}")
        out[key.strip()] = val.strip()
    return out


# The prompts `--sim` sends when no prompt set is named.
SIM_PROMPTS = Path(__file__).parent / "datasets" / "sim_prompts.txt"
# The sweep `--sim` runs when no load plan is given (a minute on a laptop): --parallel 1 8 32 --number 8 32 128.
SIM_SWEEP = ((1, 8, 32), (8, 32, 128))

# Seconds, also written 30s, 500ms or 2m (the CLI hands the text over as it was typed).
Seconds = Annotated[float, BeforeValidator(parse_seconds)]


class PerfConfig(BaseModel):
    """One ``assay perf`` run: where to send, what to send, and the load plans (possibly a sweep)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    # ---- where -----------------------------------------------------------------------------------
    url: EndpointUrl | list[EndpointUrl] | None = Field(
        default=None,
        description="Endpoint URL, e.g. http://127.0.0.1:8801/v1/chat/completions (or the /v1 base); required "
                    "unless --sim. Several (--url A --url B, or --url A B): replicas of one model with no balancer "
                    "in front; requests are spread over them (--endpoint-policy) and summarised per endpoint.")
    endpoint_policy: EndpointPolicy = Field(
        default="round-robin",
        description="With several --url: round-robin (request i to endpoint i mod n), or least-loaded (the "
                    "endpoint with the fewest requests of this run in flight, so a slower replica gets fewer).")
    model: str | None = Field(
        default=None, description="Model name sent in every request; required unless --sim (then assay-sim).")
    sim: bool = Field(
        default=False,
        description="Start the built-in simulated server (assay sim: a continuous-batching latency model) for this "
                    "run and load-test it: no GPU, no network. Without a prompt set or plan it sends prompts "
                    "shipped with assay in the sweep --parallel 1 8 32 --number 8 32 128.")
    api: Literal["openai", "openai_chat", "openai_completions", "openai_embedding", "embedding", "openai_rerank",
                 "rerank"] = Field(
        default="openai",
        description="openai: the endpoint the URL names (chat when it names none); openai_chat; openai_completions; "
                    "openai_embedding (/embeddings); openai_rerank (/rerank, Cohere/Jina/vLLM shape).")
    api_key: SecretStr | None = Field(
        default=None, description="API key (else $ASSAY_API_KEY or $OPENAI_API_KEY); never written anywhere.")
    headers: dict[str, str] | list[str] = Field(
        default_factory=dict, description="Extra HTTP headers as KEY=VALUE pairs.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to open a connection.")
    read_timeout: float = Field(
        default=600.0, gt=0, description="Seconds without answer (stream events with content, reasoning or usage; "
                                         "keep-alive bytes don't count) before a request fails.")
    total_timeout: float | None = Field(
        default=DEFAULT_TOTAL_TIMEOUT_S, gt=0,
        description="Seconds a whole request may take (an hour leaves room for long reasoning; none: no limit).")
    test_connection: bool = Field(
        default=True, description="Send one preflight request first; a wrong URL or path stops before the run.")
    server_metrics: str = Field(
        default="auto",
        description="The server's Prometheus metrics to scrape during each plan (running/waiting requests, KV "
                    "cache, the server's own TTFT and latency): auto (<server root>/metrics, silently skipped "
                    "when absent), a URL, or off.")
    server_metrics_interval: float = Field(default=1.0, gt=0, description="Seconds between /metrics reads.")

    # ---- load plans --------------------------------------------------------------------------------
    parallel: list[int] | None = Field(
        default=None,
        description="Concurrent requests (closed loop); a list makes a sweep. With --rate: the concurrency cap.")
    number: list[int] | None = Field(
        default=None, description="Requests per plan, paired with --parallel/--rate [default: 1000].")
    rate: list[float] | None = Field(
        default=None, description="Open loop: requests per second (a list makes a sweep).")
    rate_distribution: Literal["poisson", "constant", "gamma"] = Field(
        default="poisson", description="Arrival process for --rate: poisson, constant, or gamma (see --burstiness).")
    burstiness: float = Field(
        default=1.0, gt=0, description="Gamma shape for --rate-distribution gamma (<1 burstier, >1 smoother).")
    duration: float | None = Field(
        default=None, gt=0, description="Stop sending after this many seconds per plan (in-flight requests finish).")
    warmup: int = Field(default=0, ge=0, description="Unrecorded warm-up requests before the first plan.")
    ramp: Literal["none", "linear", "exponential"] = Field(
        default="none",
        description="Raise each plan's load to its target over --ramp-duration: the request rate with --rate "
                    "(arrivals follow the rising rate), else the concurrency (lanes released over time).")
    ramp_duration: Seconds | None = Field(
        default=None, gt=0, description="--ramp: how long the ramp lasts (seconds, or 30s, 500ms, 2m).")
    ramp_start: float | None = Field(
        default=None, ge=0,
        description="--ramp: where the ramp starts, in requests/s with --rate or requests in flight without "
                    "[default: a tenth of the rate; 1 request in flight].")
    stop_error_rate: float | None = Field(
        default=None, ge=0, lt=100,
        description="Sweep stop rule: a plan whose failed requests exceed this percentage ends the sweep after "
                    "it (the remaining plans are skipped).")
    stop_error_after: int | None = Field(
        default=None, ge=1,
        description="With --stop-error-rate: also cut a plan short once this many of its requests finished with "
                    "the error rate over it (in-flight requests finish), then end the sweep.")
    stop_on_saturation: bool = Field(
        default=False,
        description="Sweep stop rule: end the sweep once a plan with more load than the one before gains at most "
                    "--saturation-throughput-gain percent request throughput while its median latency rises by "
                    "more than --saturation-latency-rise percent.")
    saturation_throughput_gain: float = Field(
        default=10.0, ge=0, description="--stop-on-saturation: throughput gains up to this percentage count as flat.")
    saturation_latency_rise: float = Field(
        default=50.0, gt=0, description="--stop-on-saturation: a median latency rise over this percentage counts.")
    saturation_latency: Literal["e2e", "ttft"] = Field(
        default="e2e", description="--stop-on-saturation: the latency compared, p50 end-to-end or p50 TTFT.")
    repeats: int = Field(
        default=1, ge=1, le=1000,
        description="Run each plan this many times in a row (repeat r draws its arrivals with seed + r); the "
                    "summary gives each metric's mean over the repeats with a 95% interval, and `assay perf "
                    "compare` then tests differences on the per-repeat values.")
    num_workers: int = Field(
        default=1, ge=1, le=256, description="Load-generator processes (one event loop each) sharing each plan.")
    event_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        default="auto",
        description="The load generator's event loop. asyncio: each read carries the kernel's receive time "
                    "(Linux), so a busy client adds no phantom latency; uvloop: slightly less CPU per read, "
                    "stamped when the loop reaches the socket. auto: asyncio where kernel stamps work, else "
                    "uvloop when installed.")
    ray_address: str | None = Field(
        default=None,
        description="Run the --num-workers workers as Ray actors, possibly on several machines: auto (the Ray "
                    "cluster this machine belongs to), ray://HOST:10001 (Ray Client) or local (start a Ray here). "
                    "Needs pip install 'assay[dist]'.")
    multi_turn: bool = Field(
        default=False,
        description="Conversations (sharegpt) grow turn by turn: each answer and the next user turn are appended; "
                    "--number then counts conversations, each turn is one record.")
    sla_auto_tune: bool = Field(
        default=False, description="Search the highest --sla-variable that meets every --slo (needs --slo).")
    sla_variable: Literal["parallel", "rate"] = Field(default="parallel", description="What --sla-auto-tune searches.")
    sla_lower_bound: float = Field(default=1, gt=0, description="Auto-tune: the lowest value tried.")
    sla_upper_bound: float = Field(default=1024, gt=0, description="Auto-tune: the highest value tried.")
    sla_met_fraction: float = Field(
        default=0.99, gt=0, le=1,
        description="Auto-tune: a load meets the SLOs when this share of its requests succeed within all of them.")
    sla_requests_per_unit: int = Field(
        default=8, ge=1, description="Auto-tune: requests per trial = this x the concurrency (or x the rate).")
    slo: dict[str, float] | list[str] = Field(
        default_factory=dict,
        description="Service-level objectives for goodput, e.g. ttft_ms=500 tpot_ms=50 (keys: "
                    "ttft_ms, tpot_ms, e2e_latency_ms).")

    trace: str | None = Field(
        default=None,
        description="Replay a request trace: Mooncake JSONL (timestamp ms, input_length, output_length, hash_ids) "
                    "or BurstGPT CSV (Timestamp s, Request tokens, Response tokens). One open-loop plan: each "
                    "request goes out at its recorded time, with a prompt of its input length (shared hash_ids "
                    "give shared prefixes) and max_tokens = its output length.")
    trace_speed: float = Field(
        default=1.0, gt=0, description="--trace: replay speed (1 = real time, 2 = twice as fast).")
    trace_limit: int | None = Field(default=None, ge=1, description="--trace: replay at most this many requests.")
    trace_start: float = Field(
        default=0.0, ge=0, description="--trace: skip the requests of the first this many seconds of the trace.")
    trace_exact_output: bool = Field(
        default=False,
        description="--trace: also send min_tokens = the recorded output length (vLLM/SGLang), so answers are "
                    "as long as the trace's.")

    # ---- what ----------------------------------------------------------------------------------------
    dataset: DatasetName = Field(default="openqa", description="Prompt set.")
    dataset_path: str | None = Field(default=None, description="Local file for the prompt set (else the hub).")
    prompt: str | None = Field(default=None, description="One prompt sent for every request (@FILE reads a file).")
    tokenizer_path: str | None = Field(
        default=None, description="Local tokenizer (directory or tokenizer.json) for random prompts and token counts.")
    min_prompt_length: int = Field(
        default=0, ge=0, description="Shortest prompt kept (tokens with a tokenizer, else characters).")
    max_prompt_length: int = Field(
        default=131072, ge=1, description="Longest prompt kept (tokens with a tokenizer, else characters).")
    prefix_length: int = Field(default=0, ge=0, description="random: a shared prefix of this many tokens.")
    image_width: int = Field(default=224, ge=8, description="random_vl: image width in pixels.")
    image_height: int = Field(default=224, ge=8, description="random_vl: image height in pixels.")
    image_num: int = Field(default=1, ge=0, description="random_vl: images per request.")
    num_documents: int = Field(default=10, ge=1, description="random_rerank: documents per query.")
    document_length_ratio: float = Field(
        default=5.0, gt=0, description="random_rerank: document length as a multiple of the query's.")
    seed: int = Field(default=0, description="Seed for prompt sampling and arrival times.")

    # ---- generation ------------------------------------------------------------------------------------
    stream: bool = Field(default=True, description="Stream responses (needed for TTFT, ITL, TPOT).")
    max_tokens: int | None = Field(default=2048, ge=1, description="max_tokens of every request.")
    min_tokens: int | None = Field(default=None, ge=0, description="min_tokens (vLLM/SGLang) of every request.")
    temperature: float | None = Field(default=0.0, ge=0, description="Sampling temperature.")
    top_p: float | None = Field(default=None, gt=0, le=1, description="Nucleus sampling.")
    top_k: int | None = Field(default=None, description="Top-k sampling (vLLM/SGLang).")
    stop: list[str] | None = Field(default=None, description="Stop strings.")
    frequency_penalty: float | None = Field(default=None, description="Frequency penalty.")
    repetition_penalty: float | None = Field(default=None, description="Repetition penalty (vLLM/SGLang).")
    extra_args: dict[str, Any] = Field(
        default_factory=dict, description='JSON merged into every request body, e.g. {"ignore_eos": true}.')

    # ---- output ----------------------------------------------------------------------------------------
    outputs_dir: str = Field(default="outputs", description="Results go to OUTPUTS_DIR/perf/<run-id>/<plan>/.")
    name: str | None = Field(default=None, description="Run name in the run id (default: the model name).")
    charts: bool = Field(default=True, description="Draw PNG charts (needs matplotlib).")
    wandb_api_key: SecretStr | None = Field(
        default=None, description="Log summaries and percentiles to Weights & Biases (WANDB_MODE=offline works "
                                  "without one key); never written anywhere.")
    swanlab_api_key: SecretStr | None = Field(
        default=None, description="Log summaries and percentiles to SwanLab (SWANLAB_MODE=offline/local works "
                                  "without network); never written anywhere.")
    tracking_project: str = Field(default="assay-perf", description="Project name for --wandb/--swanlab-api-key.")

    @field_validator("url", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        return one_or_several_urls(value)

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        return parse_key_values(value, what="--headers")

    @field_validator("slo", mode="before")
    @classmethod
    def _slo(cls, value: Any) -> Any:
        pairs = parse_key_values(value, what="--slo")
        if not pairs:
            return {}
        out: dict[str, float] = {}
        for key, val in pairs.items():
            key = _SLO_ALIASES.get(key, key)
            if key not in SLO_KEYS:
                raise ValueError(f"unknown SLO {key!r} (use {', '.join(SLO_KEYS)})")
            try:
                out[key] = float(val)
            except (TypeError, ValueError):
                raise ValueError(f"SLO {key} must be a number of milliseconds, got {val!r}") from None
            if out[key] <= 0:
                raise ValueError(f"SLO {key} must be positive")
        return out

    @field_validator("parallel", "number", "rate", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, tuple):
            return list(value)
        return [value]

    @field_validator("parallel", "number")
    @classmethod
    def _positive_ints(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or any(v < 1 for v in value)):
            raise ValueError("every value must be a whole number >= 1")
        return value

    @field_validator("rate")
    @classmethod
    def _positive_rates(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (not value or any(not v > 0 for v in value)):
            raise ValueError("every rate must be > 0 requests per second")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt_file(cls, value: str | None) -> str | None:
        if value and value.startswith("@"):
            try:
                with open(value[1:], encoding="utf-8") as file:
                    return file.read()
            except OSError as exc:
                raise ValueError(f"cannot read prompt file {value[1:]}: {exc.strerror}") from None
        return value

    @model_validator(mode="after")
    def _check(self) -> PerfConfig:
        if self.sim:
            if self.url is not None:
                raise ValueError("--sim starts its own server: leave out --url")
            self.model = self.model or "assay-sim"
            if not {"dataset", "dataset_path", "prompt"} & self.model_fields_set:
                # Everything built in: a few varied prompts shipped with assay, no hub download.
                self.dataset, self.dataset_path = "line_by_line", str(SIM_PROMPTS)
            if not {"parallel", "number", "rate", "duration", "trace"} & self.model_fields_set:
                self.parallel, self.number = list(SIM_SWEEP[0]), list(SIM_SWEEP[1])
        elif self.url is None or self.model is None:
            raise ValueError("--url and --model are required (or --sim to load-test the built-in simulator)")
        if len(self.urls) > 1:
            self._check_endpoints()
        if self.trace is not None:
            self._check_trace()
        if self.min_prompt_length > self.max_prompt_length:
            raise ValueError("min_prompt_length is larger than max_prompt_length")
        if self.max_tokens is not None and self.min_tokens is not None and self.min_tokens > self.max_tokens:
            raise ValueError("min_tokens is larger than max_tokens")
        lengths = {len(v) for v in (self.parallel, self.number, self.rate) if v is not None and len(v) > 1}
        if len(lengths) > 1:
            raise ValueError("--parallel, --number and --rate lists must have the same length (or one value)")
        if self.sla_auto_tune and not self.slo:
            raise ValueError("--sla-auto-tune needs --slo (e.g. --slo ttft_ms=500 tpot_ms=50)")
        if self.sla_lower_bound > self.sla_upper_bound:
            raise ValueError("sla_lower_bound is larger than sla_upper_bound")
        if self.slo and "tpot_ms" in self.slo and not self.stream:
            raise ValueError("a tpot_ms SLO needs streaming (--stream)")
        if self.pooling:
            # One JSON body per request: nothing streams, so there is no TTFT, TPOT or ITL.
            self.stream = False
            timed = [k for k in ("ttft_ms", "tpot_ms") if k in self.slo]
            if timed:
                raise ValueError(f"--api {self.api} has no first token: use e2e_latency_ms, not {timed[0]}")
            if self.multi_turn:
                raise ValueError(f"--multi-turn does not apply to --api {self.api}")
            if self.stop_on_saturation and self.saturation_latency == "ttft":
                raise ValueError(f"--api {self.api} has no first token: use --saturation-latency e2e")
        self._check_ramp()
        self._check_stop_rules()
        if self.api_key is None:
            for var in API_KEY_ENV_VARS:
                if os.environ.get(var):
                    self.api_key = SecretStr(os.environ[var])
                    break
        return self

    def _check_ramp(self) -> None:
        """A ramp needs its shape and duration together, and a start at or below every plan's target."""
        given = {"ramp_duration", "ramp_start"} & self.model_fields_set
        if self.ramp == "none":
            if given:
                raise ValueError(f"--{sorted(given)[0].replace('_', '-')} needs --ramp linear or exponential")
            return
        if self.ramp_duration is None:
            raise ValueError(f"--ramp {self.ramp} needs --ramp-duration (e.g. 30s)")
        if self.trace is not None:
            raise ValueError("--ramp does not apply to --trace (the trace sets the arrival times)")
        if self.sla_auto_tune:
            raise ValueError("--ramp does not apply to --sla-auto-tune")
        start = self.ramp_start
        if start is None:
            return
        targets, unit = (self.rate, "requests/s") if self.rate is not None else (self.parallel or [1], "in flight")
        if self.rate is None and start < 1:
            raise ValueError("--ramp-start of a concurrency ramp must be at least 1 request in flight")
        if self.ramp == "exponential" and start <= 0:
            raise ValueError("--ramp exponential needs --ramp-start > 0 (it grows by a factor, never from 0)")
        if start > min(targets):
            raise ValueError(f"--ramp-start {start:g} is above the target {min(targets):g} {unit}")

    def _check_stop_rules(self) -> None:
        """Stop rules end a sweep; their thresholds mean nothing without them."""
        if self.stop_error_after is not None and self.stop_error_rate is None:
            raise ValueError("--stop-error-after needs --stop-error-rate (the percentage it checks)")
        tuned = {"saturation_throughput_gain", "saturation_latency_rise", "saturation_latency"} & self.model_fields_set
        if tuned and not self.stop_on_saturation:
            raise ValueError(f"--{sorted(tuned)[0].replace('_', '-')} needs --stop-on-saturation")
        if self.stop_on_saturation and self.saturation_latency == "ttft" and not self.stream:
            raise ValueError("--saturation-latency ttft needs streaming (--stream)")
        if self.sla_auto_tune and (self.stop_error_rate is not None or self.stop_on_saturation):
            raise ValueError("--sla-auto-tune runs its own search: leave out --stop-error-rate/--stop-on-saturation")
    def _check_endpoints(self) -> None:
        """Replicas of one model: every URL must name the same API, and no URL may be given twice (its
        records could not be told apart)."""
        apis = {self._endpoint_of(url)[1] for url in self.urls}
        if len(apis) > 1:
            raise ValueError(f"the --url endpoints name different APIs ({', '.join(sorted(apis))}): give them all "
                             "the same path, or set --api")
        bases = [self._endpoint_of(url)[0] for url in self.urls]
        twice = next((b for b in bases if bases.count(b) > 1), None)
        if twice is not None:
            raise ValueError(f"--url {redact_url(twice)} is given twice")

    def _check_trace(self) -> None:
        """A trace is its own load plan: options that make other plans, or another prompt source, clash."""
        if self.rate is not None:
            raise ValueError("--trace sets the arrival times: leave out --rate (use --trace-speed)")
        if self.number is not None:
            raise ValueError("--trace replays the trace's requests: use --trace-limit, not --number")
        if self.parallel is not None and len(self.parallel) > 1:
            raise ValueError("--trace makes one plan: give --parallel (the cap on requests in flight) once")
        if self.sla_auto_tune:
            raise ValueError("--sla-auto-tune does not apply to --trace (the trace sets the load)")
        if self.multi_turn:
            raise ValueError("--multi-turn does not apply to --trace")
        if self.pooling:
            raise ValueError(f"--trace replays generation requests, not --api {self.api}")
        if self.prompt:
            raise ValueError("--trace builds each prompt from the trace: leave out --prompt")

    # ---- derived -------------------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        """Every endpoint URL as given (one, several, or none before --sim starts its server)."""
        return url_list(self.url)

    @property
    def endpoint_labels(self) -> list[str]:
        """Each endpoint's base URL with credentials redacted: what records, summaries and messages name."""
        return [self.client_config(k).display_url for k in range(len(self.urls))]

    @property
    def endpoint(self) -> tuple[str, EndpointApi]:
        """(base URL, api) of the first endpoint, from ``url`` and ``api``; a URL ending in /embeddings or
        /rerank names its api (every endpoint names the same one)."""
        return self._endpoint_of(self.urls[0])

    def _endpoint_of(self, url: str) -> tuple[str, EndpointApi]:
        url = url.strip()
        path = urlsplit(url).path.rstrip("/")
        named: EndpointApi | None = None
        if path.endswith("/rerank"):
            url, named = url.rstrip("/")[: -len("/rerank")], "rerank"
        elif path.endswith("/embeddings"):
            named = "embeddings"
        base, generation_api = split_endpoint_url(url)
        named = named or generation_api
        if self.api == "openai_chat":
            return base, "chat"
        if self.api == "openai_completions":
            return base, "completions"
        if self.api in EMBEDDING_APIS:
            return base, "embeddings"
        if self.api in RERANK_APIS:
            return base, "rerank"
        return base, named or "chat"

    @property
    def pooling(self) -> bool:
        """True for the embeddings and rerank APIs (one JSON body, no generated tokens)."""
        return self.api in EMBEDDING_APIS + RERANK_APIS or (
            self.api == "openai" and self._named_pooling())

    def _named_pooling(self) -> bool:
        if self.url is None:  # --sim: the simulator's chat endpoint
            return False
        path = urlsplit(self.urls[0].strip()).path.rstrip("/")
        return path.endswith("/rerank") or path.endswith("/embeddings")

    def client_config(self, endpoint: int = 0) -> ClientConfig:
        """Connection settings of endpoint ``endpoint`` (the first by default): no retries (a load tester
        records failures instead)."""
        return ClientConfig(
            base_url=self._endpoint_of(self.urls[endpoint])[0], api_key=self.api_key, model=self.model,
            headers=dict(self.headers),
            connect_timeout_s=self.connect_timeout, read_timeout_s=self.read_timeout,
            total_timeout_s=self.total_timeout, max_retries=0, include_usage=True,
        )

    def generation(self) -> GenerationConfig:
        """The sampling settings sent with every request."""
        return GenerationConfig(
            max_tokens=self.max_tokens, min_tokens=self.min_tokens, temperature=self.temperature,
            top_p=self.top_p, top_k=self.top_k, stop=self.stop, frequency_penalty=self.frequency_penalty,
            repetition_penalty=self.repetition_penalty, extra_body=dict(self.extra_args),
        )

    def public_dump(self) -> dict[str, Any]:
        """The config as written to ``config.yaml``: no API key, no secret-looking headers, no credential in the URL."""
        data = self.model_dump(mode="json", exclude={"api_key", "wandb_api_key", "swanlab_api_key"})
        data["headers"] = {k: ("***" if _secret_header(k) else v) for k, v in dict(self.headers).items()}
        data["url"] = redact_url(self.url) if isinstance(self.url, str) or self.url is None else [
            redact_url(url) for url in self.url]
        return data


def _secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("auth", "key", "token", "secret", "cookie"))

"""A local Hugging Face checkpoint run with transformers: concurrent requests are gathered into batches.

The runner asks one sample at a time, as it does a server; this backend queues the prompts and runs them
through ``model.generate`` a batch at a time (left padding, the tokenizer's chat template) in a worker
thread, so the event loop keeps writing results while the model computes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from assay.errors import ConfigError, ModelError
from assay.models.registry import register_backend
from assay.types import Completion, GenerationConfig, Message
from assay.types.completion import ErrorInfo, Timings, Usage

if TYPE_CHECKING:
    from assay.eval.config import TaskConfig

log = logging.getLogger("assay.models")

_BATCH_WAIT_S = 0.005  # how long a first request waits for company before its batch starts


@dataclass
class _Request:
    messages: list[Message]
    generation: GenerationConfig
    future: asyncio.Future = field(repr=False)
    prompt: str | None = None  # a raw prompt to continue, without the chat template


_DTYPES = ("auto", "float32", "float16", "bfloat16", "float64", "half", "float", "double")


class CheckpointArgs(BaseModel):
    """``model_args`` of ``checkpoint``. EvalScope's spellings are accepted (``precision: torch.float16``,
    ``device_map``, ``revision``); other keys are ignored with a warning, as EvalScope configs carry some."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    device: str | None = Field(default=None, description="cpu, cuda, cuda:1, mps (default: cuda when available).")
    device_map: str | dict[str, Any] | None = Field(
        default=None, description="transformers' device_map (auto, or a layer → device map; needs accelerate); "
                                  "set, it places the weights instead of device.")
    dtype: str = Field(default="auto", validation_alias=AliasChoices("dtype", "torch_dtype", "precision"),
                       description="Weights' dtype: auto, float32, float16, bfloat16 (torch_dtype, precision too; "
                                   "torch.float16 is read as float16).")
    revision: str | None = Field(default=None, description="The hub revision (branch, tag or commit) to load.")
    trust_remote_code: bool = Field(default=False, description="Run the checkpoint's own modelling code.")

    @field_validator("dtype", mode="before")
    @classmethod
    def _known_dtype(cls, value: Any) -> Any:
        name = str(value).removeprefix("torch.")
        if name not in _DTYPES:
            raise ValueError(f"unknown dtype {value!r} (known: {', '.join(_DTYPES)})")
        return name


@register_backend("checkpoint", aliases=("llm_ckpt",), args=CheckpointArgs,
                  summary="A local Hugging Face checkpoint run with transformers; concurrent samples are batched "
                          "(eval_batch_size).",
                  requires={"model": " (a checkpoint path or hub id)"})
class CheckpointModel:
    """``transformers`` generation on a local checkpoint; ``batch_size`` prompts per ``generate`` call.

    ``model_args``: :class:`CheckpointArgs`. Token counts come from the tokenizer (``usage.source='tokenizer'``).
    """

    def __init__(self, *, model: str, model_args: dict[str, Any] | None = None, batch_size: int = 8,
                 args: CheckpointArgs | None = None) -> None:
        from assay.models.registry import get_backend

        self.name = model
        self.path = model
        # Kept as given: describe() (the run's fingerprint, compared on resume) lists the keys as written.
        self.model_args = dict(model_args or {})
        self.args = args or get_backend("checkpoint").parse_args(self.model_args)
        self.batch_size = batch_size
        self._queue: asyncio.Queue[_Request] | None = None
        self._worker: asyncio.Task | None = None
        self._model: Any = None
        self._tokenizer: Any = None

    @classmethod
    def from_task(cls, task: TaskConfig, args: CheckpointArgs) -> CheckpointModel:
        return cls(model=task.model_name, model_args=task.model_args, batch_size=task.eval_batch_size, args=args)

    async def __aenter__(self) -> CheckpointModel:
        await asyncio.to_thread(self._load)
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._batch_loop())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    def describe(self) -> dict[str, Any]:
        return {"type": "checkpoint", "model": self.name,
                "model_args": {k: str(v) for k, v in self.model_args.items()}}

    async def generate(self, messages: list[Message], generation: GenerationConfig) -> Completion:
        assert self._queue is not None, "use `async with CheckpointModel(...)`"
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(messages, generation, future))
        return await future

    async def complete(self, prompt: str, generation: GenerationConfig) -> Completion:
        """Continue ``prompt`` as it is (no chat template), batched with the chat requests."""
        assert self._queue is not None, "use `async with CheckpointModel(...)`"
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request([], generation, future, prompt))
        return await future

    # ---- internals ---------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ConfigError("eval_type checkpoint needs transformers and torch: pip install 'assay[local]'") from None
        args = self.args
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype: Any = args.dtype if args.dtype == "auto" else getattr(torch, args.dtype)
        hub: dict[str, Any] = {"trust_remote_code": args.trust_remote_code}
        if args.revision:
            hub["revision"] = args.revision
        placement = {"device_map": args.device_map} if args.device_map is not None else {}
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.path, **hub)
            self._model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype, **hub, **placement)
        except (OSError, ValueError, ImportError) as exc:
            raise ModelError(f"cannot load checkpoint {self.path!r}: {str(exc).splitlines()[0]}") from None
        if placement:  # the weights are where device_map put them; inputs go to the first layer's device
            device = str(self._model.device)
        else:
            self._model.to(device)
        self._model.eval()
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._device = device

    async def _batch_loop(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(_BATCH_WAIT_S)
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            # One generate call per distinct generation config (repeats differ only in seed).
            groups: dict[str, list[_Request]] = {}
            for request in batch:
                groups.setdefault(request.generation.model_dump_json(), []).append(request)
            for requests in groups.values():
                try:
                    completions = await asyncio.to_thread(self._generate_batch, requests)
                except Exception as exc:  # noqa: BLE001 - a failed batch is recorded, not fatal
                    log.exception("checkpoint generation failed")
                    completions = [Completion(error=ErrorInfo(kind="generation", message=str(exc)))] * len(requests)
                for request, completion in zip(requests, completions):
                    if not request.future.done():
                        request.future.set_result(completion)

    def _default_max_new_tokens(self, prompt_tokens: int) -> int:
        """No max_tokens given: what the checkpoint's generation_config says, else up to its context length.

        Never a silent small cap (reasoning models think for thousands of tokens); the choice is logged.
        """
        configured = getattr(self._model.generation_config, "max_new_tokens", None)
        if configured:
            limit, why = int(configured), "the checkpoint's generation_config.max_new_tokens"
        else:
            context = getattr(self._model.config, "max_position_embeddings", None) or 32768
            limit, why = max(1, int(context) - prompt_tokens), "the context length left after the prompt"
        if not getattr(self, "_logged_default", False):
            self._logged_default = True
            log.info("max_tokens not set: generating up to %d new tokens (%s)", limit, why)
        return limit

    def _raw_text(self, prompt: str) -> str:
        # Prompts are tokenized without special tokens (chat templates write their own), so a raw prompt
        # gets the BOS token here when the tokenizer normally adds one.
        tokenizer = self._tokenizer
        bos = tokenizer.bos_token if getattr(tokenizer, "add_bos_token", False) else None
        return bos + prompt if bos and not prompt.startswith(bos) else prompt

    def _generate_batch(self, requests: list[_Request]) -> list[Completion]:
        import torch

        generation = requests[0].generation
        template_kwargs = dict(generation.extra_body.get("chat_template_kwargs", {}))
        prompts = [
            self._raw_text(r.prompt) if r.prompt is not None else self._tokenizer.apply_chat_template(
                [m.model_dump() for m in r.messages], tokenize=False, add_generation_prompt=True, **template_kwargs)
            for r in requests
        ]
        start_ns = time.perf_counter_ns()
        encoded = self._tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = encoded.to(self._device)
        max_new = generation.max_tokens or self._default_max_new_tokens(encoded["input_ids"].shape[1])
        sample = bool(generation.temperature)
        options: dict[str, Any] = {"max_new_tokens": max_new, "do_sample": sample,
                                   "pad_token_id": self._tokenizer.pad_token_id}
        if sample:
            options.update({k: v for k, v in (("temperature", generation.temperature), ("top_p", generation.top_p),
                                              ("top_k", generation.top_k)) if v is not None})
        else:
            options.update({"temperature": None, "top_p": None, "top_k": None})
        if generation.seed is not None:
            torch.manual_seed(generation.seed)
        with torch.inference_mode():
            output = self._model.generate(**encoded, **options)
        done_ns = time.perf_counter_ns()
        prompt_width = encoded["input_ids"].shape[1]
        eos = self._tokenizer.eos_token_id
        completions = []
        for row, attention in zip(output, encoded["attention_mask"]):
            new_tokens = row[prompt_width:].tolist()
            if self._tokenizer.pad_token_id is not None and self._tokenizer.pad_token_id != eos:
                new_tokens = [t for t in new_tokens if t != self._tokenizer.pad_token_id]
            ended = eos is not None and eos in new_tokens
            if ended:
                new_tokens = new_tokens[: new_tokens.index(eos)]
            text = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
            reasoning = None
            if "</think>" in text:
                reasoning, text = text.split("</think>", 1)
                reasoning = reasoning.replace("<think>", "", 1).strip()
                text = text.strip()
            prompt_tokens = int(attention.sum())
            completions.append(Completion(
                text=text, reasoning=reasoning, finish_reason="stop" if ended else "length", model=self.name,
                usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(new_tokens),
                            total_tokens=prompt_tokens + len(new_tokens), source="tokenizer"),
                timings=Timings(request_start_ns=start_ns, done_ns=done_ns, first_token_ns=done_ns),
            ))
        return completions

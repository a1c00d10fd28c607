"""LLM-as-judge: a second model grades an open answer against the reference.

Two kinds of grade (``score_type``, EvalScope's name): ``pattern`` asks for a CORRECT / INCORRECT verdict
(the score is 1 or 0); ``numeric`` asks for a rating from 1 to 10 in MT-Bench's ``Rating: [[N]]`` form (the
score is N / 10, and the rating itself is kept with the sample).

The judge is any OpenAI-compatible endpoint with its own generation settings, configured with EvalScope's
``judge_model_args`` (``model_id``, ``api_url``, ``api_key``, ``generation_config``, ``system_prompt``,
``prompt_template``). The verdict is parsed from a closing ``VERDICT: CORRECT`` / ``VERDICT: INCORRECT`` line
(or the last ``[[N]]`` rating); a reply without a readable grade, or a failed request, is ``None`` (could not
grade), never a wrong answer.

Every judge prompt and reply is kept with the sample (``Score.metadata["judge"]``), and replies are cached in
the run folder by prompt, so re-grading or resuming a run never asks the judge the same question twice.

:class:`LLMJudge` is assay's only LLM judge: eval's grader, pairwise's baseline model and ``assay think``'s
first-correct judge and step splitter are all one, built by :func:`make_judge` from ``judge_model_args``,
``baseline_model_args`` or think's ``JudgeConfig``. One class and one translation into the client's settings
(:meth:`JudgeModelConfig.client_config`) mean caching, retries, timeouts and error handling cannot drift apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Mapping

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from assay.client.config import EndpointUrl, redact_url
from assay.errors import ConfigError
from assay.types import GenerationConfig, Message, Score

if TYPE_CHECKING:
    from assay.client import ClientConfig
    from assay.think.config import JudgeConfig

log = logging.getLogger("assay.eval")

JudgeMode = Literal["rule", "llm", "llm_recall"]

# Bump when the prompt or the parsing changes: it is part of the scoring fingerprint, so stored answers are
# re-graded (from cache where the prompt is unchanged) rather than mixed with verdicts of another judge.
JUDGE_VERSION = "1"

JUDGE_SYSTEM = "You are a careful, impartial grader of answers to questions."

_QUOTED = """[Question]
{question}

[Reference answer]
{reference}

[Candidate answer]
{candidate}
"""

JUDGE_TEMPLATE = """Decide whether the candidate answer to the question below is correct, using the reference answer.

The candidate is correct if its final answer means the same as the reference: ignore wording, formatting, \
units written differently and equivalent mathematical forms; extra explanation is fine as long as it does not \
contradict the reference. It is incorrect if its final answer differs from the reference, is missing, is \
ambiguous (several different final answers), or hedges between answers.

""" + _QUOTED + """
Explain your reasoning briefly, then end with one line that is exactly "VERDICT: CORRECT" or \
"VERDICT: INCORRECT"."""

RATING_MAX = 10

RATING_TEMPLATE = """Rate the candidate answer to the question below for correctness and quality, using the \
reference answer.

Give 10 to an answer whose final answer means the same as the reference and whose explanation is sound; give 1 \
to an answer that is wrong, missing or off-topic; use the numbers between for partly correct, incomplete or \
poorly justified answers. Ignore wording and formatting that do not change the meaning.

""" + _QUOTED + """
Explain your rating briefly, then end with one line in exactly this form: "Rating: [[N]]", where N is an \
integer from 1 to 10."""

_RATING = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]|rating\W{0,6}(\d+(?:\.\d+)?)\s*(?:/\s*10)?\b", re.IGNORECASE)

_VERDICT_LINE = re.compile(r"verdict\W{0,6}(correct|incorrect|right|wrong|yes|no|true|false)\b", re.IGNORECASE)
_BARE_VERDICT = re.compile(r"[\s*_`\"'.\[\]()]*(correct|incorrect)[\s*_`\"'.\[\]()!]*", re.IGNORECASE)
_POSITIVE = {"correct", "right", "yes", "true"}


def parse_verdict(reply: str | None) -> bool | None:
    """True/False from the judge's reply; None when it states no readable verdict.

    The last ``VERDICT: X`` wins (a judge may quote the format before answering); a reply that is nothing but
    the word CORRECT or INCORRECT (in any markup) also counts. Anything else is undecided, never "wrong".
    """
    if not reply:
        return None
    text = reply.split("</think>")[-1]
    matches = _VERDICT_LINE.findall(text)
    if matches:
        return matches[-1].lower() in _POSITIVE
    bare = _BARE_VERDICT.fullmatch(text)
    if bare:
        return bare.group(1).lower() == "correct"
    return None


def parse_rating(reply: str | None) -> float | None:
    """The 1-10 rating in the judge's reply (the last ``[[N]]``, else the last ``Rating: N``); None if absent
    or out of range."""
    if not reply:
        return None
    text = reply.split("</think>")[-1]
    matches = _RATING.findall(text)
    if not matches:
        return None
    bracketed = [b for b, _ in matches if b]
    value = float(bracketed[-1] if bracketed else matches[-1][1])
    return value if 1 <= value <= RATING_MAX else None


def render_judge_prompt(question: str, reference: str, candidate: str, template: str | None = None) -> str:
    """The judge's user message; a user ``prompt_template`` gets ``{question}``, ``{reference}``, ``{candidate}``
    (EvalScope's ``{pred}`` and ``{gold}`` are accepted too)."""
    fields = {"question": question, "reference": reference, "candidate": candidate, "gold": reference,
              "pred": candidate}
    # str.replace, not str.format: answers are full of braces (LaTeX, code).
    text = template or JUDGE_TEMPLATE
    for name, value in fields.items():
        text = text.replace("{" + name + "}", value)
    return text


class JudgeModelConfig(BaseModel):
    """The judge model (``judge_model_args``): any OpenAI-compatible endpoint with its own generation settings.

    ``score_type`` is EvalScope's: ``pattern`` (a CORRECT/INCORRECT verdict, scored 1/0) or ``numeric`` (a
    1-10 rating, scored rating/10). A ``prompt_template`` replaces the prompt of either.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model_id: str = Field(alias="model", description="The judge's model name on its server.")
    api_url: EndpointUrl = Field(description="OpenAI-compatible URL, with or without /chat/completions.")
    api_key: SecretStr | None = Field(default=None, description="The judge's API key (never written anywhere).")
    generation_config: GenerationConfig = Field(
        default_factory=lambda: GenerationConfig(temperature=0.0, max_tokens=2048))
    system_prompt: str | None = JUDGE_SYSTEM
    prompt_template: str | None = None
    score_type: Literal["pattern", "numeric"] = "pattern"
    stream: bool = True
    read_timeout: float = Field(default=600.0, gt=0)
    max_retries: int = Field(default=3, ge=0)

    @classmethod
    def from_args(cls, args: Mapping[str, Any], where: str = "judge_model_args") -> JudgeModelConfig:
        """From ``judge_model_args`` (or another mapping of its keys, named ``where`` in errors); a
        ``ConfigError`` naming the first bad key."""
        try:
            return cls.model_validate(dict(args))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{where}.{loc}: {first['msg']}") from None

    def __repr_args__(self) -> Any:
        # A log line or traceback showing the config must not show a credential in the URL (the key is a SecretStr).
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "api_url" else value

    def client_config(self, max_connections: int = 0) -> ClientConfig:
        """The client settings of this judge: the one place a judge's config becomes a ``ClientConfig``."""
        from assay.client import ClientConfig

        return ClientConfig(base_url=self.api_url, api_key=self.api_key, model=self.model_id,
                            read_timeout_s=self.read_timeout, max_retries=self.max_retries,
                            max_connections=max_connections)

    def fingerprint(self) -> dict[str, Any]:
        """What changes a verdict: the judge model, its settings and prompts (never the key or the URL)."""
        return {"judge_version": JUDGE_VERSION, **self.model_dump(
            mode="json", exclude={"api_key", "api_url", "stream", "read_timeout", "max_retries"},
            exclude_defaults=True), "model_id": self.model_id}


class JudgeVerdict(BaseModel):
    """One judge call as stored with the sample: what was asked, what came back, what it means."""

    model_config = ConfigDict(extra="forbid")

    correct: bool | None = None
    rating: float | None = None  # score_type numeric: the judge's 1-10 rating
    model: str
    prompt: str
    reply: str | None = None
    error: str | None = None
    cached: bool = False


class JudgeReply(BaseModel):
    """What one request to the judge model gave: the prompt's text, the reply (or the error), and whether the
    reply came from the cache."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    text: str | None = None
    error: str | None = None
    cached: bool = False


class JudgeCache:
    """Judge replies by prompt key, appended (and flushed) to a JSONL file in the run folder."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.replies: dict[str, str] = {}
        self._writer: BinaryIO | None = None
        if path is not None and path.is_file():
            for line in path.read_bytes().splitlines():
                try:
                    entry = orjson.loads(line)
                    self.replies[entry["key"]] = entry["reply"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    continue  # a torn last line from a killed run: that call is simply asked again

    def get(self, key: str) -> str | None:
        return self.replies.get(key)

    def put(self, key: str, reply: str) -> None:
        self.replies[key] = reply
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self.path.open("ab")
            if self._writer.tell() and not self.path.read_bytes().endswith(b"\n"):
                self._writer.write(b"\n")
        self._writer.write(orjson.dumps({"key": key, "reply": reply}) + b"\n")
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class LLMJudge:
    """Asks the judge model, at most ``worker_num`` requests at once, answering repeated prompts from cache."""

    def __init__(self, config: JudgeModelConfig, worker_num: int = 1, cache: JudgeCache | None = None) -> None:
        self.config = config
        self.worker_num = worker_num
        self.slots = asyncio.Semaphore(worker_num)
        self.cache = cache or JudgeCache()
        self.requests = 0  # judge requests sent by this process (cache hits excluded)
        self._model: Any = None  # the openai_api backend of the model seam, made on first use

    def use_cache(self, path: Path) -> None:
        """Keep replies in ``path`` (the run folder's ``judge_cache.jsonl``), reading earlier ones back."""
        self.cache.close()
        self.cache = JudgeCache(path)

    def messages(self, question: str, reference: str, candidate: str) -> list[Message]:
        default = RATING_TEMPLATE if self.config.score_type == "numeric" else None
        prompt = render_judge_prompt(question, reference, candidate, self.config.prompt_template or default)
        system = [Message.system(self.config.system_prompt)] if self.config.system_prompt else []
        return [*system, Message.user(prompt)]

    def cache_key(self, messages: list[Message], generation: GenerationConfig | None = None) -> str:
        body = {"model": self.config.model_id, "generation": (generation or self.config.generation_config).to_payload(),
                "messages": [m.model_dump(mode="json", exclude_none=True) for m in messages]}
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def client_config(self) -> ClientConfig:
        """The client this judge talks through (connections bounded like its requests)."""
        return self.config.client_config(max_connections=self.worker_num)

    async def judge(self, question: str, reference: str, candidate: str) -> JudgeVerdict:
        """The verdict on ``candidate``; a failed request comes back as a verdict with ``error`` set."""
        messages = self.messages(question, reference, candidate)
        reply = await self.ask(messages)
        if reply.error is not None:
            return JudgeVerdict(model=self.config.model_id, prompt=reply.prompt, reply=reply.text, error=reply.error)
        return self._verdict(reply.prompt, reply.text or "", cached=reply.cached)

    async def ask(self, messages: list[Message], *, fresh: bool = False,
                  generation: GenerationConfig | None = None) -> JudgeReply:
        """The model's reply to ``messages``, from the cache when this exact request was answered before.

        Never raises for a failed request: the reply carries ``error`` (a failure is "could not grade").
        ``fresh`` asks again even so (a benchmark that re-asks an unreadable cached reply); the new reply
        replaces the cached one. ``generation`` replaces the judge's own settings for this request (think's
        splitter needs more tokens than its judge); it is part of the cache key.
        """
        generation = generation or self.config.generation_config
        prompt = messages[-1].text()
        key = self.cache_key(messages, generation)
        cached = None if fresh else self.cache.get(key)
        if cached is not None:
            return JudgeReply(prompt=prompt, text=cached, cached=True)
        async with self.slots:
            self.requests += 1
            try:
                completion = await self._ensure_model().generate(messages, generation)
            except Exception as exc:  # noqa: BLE001 - a judge failure is "could not grade", never fatal
                log.warning("judge request failed: %s", exc)
                return JudgeReply(prompt=prompt, error=f"{type(exc).__name__}: {exc}")
        if completion.error is not None:
            log.warning("judge request failed: %s: %s", completion.error.kind, completion.error.message)
            return JudgeReply(prompt=prompt, text=completion.text or None,
                              error=f"{completion.error.kind}: {completion.error.message}")
        self.cache.put(key, completion.text)
        return JudgeReply(prompt=prompt, text=completion.text)

    def _verdict(self, prompt: str, reply: str, cached: bool = False) -> JudgeVerdict:
        if self.config.score_type == "numeric":
            return JudgeVerdict(rating=parse_rating(reply), model=self.config.model_id, prompt=prompt, reply=reply,
                                cached=cached)
        return JudgeVerdict(correct=parse_verdict(reply), model=self.config.model_id, prompt=prompt, reply=reply,
                            cached=cached)

    async def ask_text(self, prompt: str, *, max_tokens: int | None = None) -> str | None:
        """The reply to one user message (``max_tokens`` replacing the judge's), ``None`` when it failed
        (logged by :meth:`ask`): what think's first-correct judge and step splitter need."""
        generation = self.config.generation_config
        if max_tokens is not None:
            generation = generation.model_copy(update={"max_tokens": max_tokens})
        reply = await self.ask([Message.user(prompt)], generation=generation)
        return None if reply.error is not None else reply.text

    def _ensure_model(self) -> Any:
        """The judge's model: the model seam's ``openai_api`` backend (``assay.models``), the same class that
        serves the model under test, built from :meth:`client_config`'s settings."""
        if self._model is None:
            from assay.models import get_backend

            settings = self.client_config()
            self._model = get_backend("openai_api").cls(
                model=settings.model, api_url=self.config.api_url, api_key=settings.api_key, stream=self.config.stream,
                read_timeout_s=settings.read_timeout_s, total_timeout_s=settings.total_timeout_s,
                max_retries=settings.max_retries, max_connections=settings.max_connections)
        return self._model

    async def close(self) -> None:
        """Close the connection pool and the cache file."""
        if self._model is not None:
            await self._model.__aexit__(None, None, None)
            self._model = None
        self.cache.close()

    async def __aenter__(self) -> LLMJudge:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def judge_model_config(source: Mapping[str, Any] | JudgeModelConfig | JudgeConfig, *,
                       where: str = "judge_model_args") -> JudgeModelConfig:
    """The judge's typed config from any of the places one is configured: eval's ``judge_model_args`` (or
    pairwise's ``baseline_model_args``, a mapping of the same keys, named ``where`` in errors), or ``assay
    think``'s ``JudgeConfig``. Think's judge keeps what it always did: no system prompt, temperature 0, its
    ``max_tokens``, no streaming."""
    if isinstance(source, JudgeModelConfig):
        return source
    if isinstance(source, Mapping):
        return JudgeModelConfig.from_args(source, where)
    return JudgeModelConfig(
        model_id=source.model, api_url=source.api_url, api_key=source.api_key,
        generation_config=GenerationConfig(temperature=0.0, max_tokens=source.max_tokens), system_prompt=None,
        stream=False, read_timeout=source.read_timeout_s, max_retries=source.max_retries)


def make_judge(source: Mapping[str, Any] | JudgeModelConfig | JudgeConfig, *, worker_num: int | None = None,
               cache_path: Path | None = None, where: str = "judge_model_args") -> LLMJudge:
    """The one place an LLM judge is built (eval's grader, pairwise's baseline, think's judge and splitter).

    ``worker_num`` bounds requests in flight (think's ``max_concurrency`` when not given for its config,
    else 1); ``cache_path`` keeps replies in that JSONL file.
    """
    config = judge_model_config(source, where=where)
    if worker_num is None:
        worker_num = getattr(source, "max_concurrency", 1)
    return LLMJudge(config, worker_num, JudgeCache(cache_path) if cache_path is not None else None)


def resolve_mode(strategy: str, default: JudgeMode = "rule") -> JudgeMode:
    """EvalScope's ``judge_strategy`` as what a benchmark does: ``auto`` is the benchmark's own default;
    ``rule_then_llm`` is ``llm_recall`` (the judge grades only what the rule did not find correct)."""
    if strategy == "auto":
        return default
    if strategy == "rule_then_llm":
        return "llm_recall"
    if strategy not in ("rule", "llm", "llm_recall"):
        raise ConfigError(f"judge_strategy {strategy!r}: expected auto, rule, llm, llm_recall or rule_then_llm")
    return strategy  # type: ignore[return-value]


def apply_verdict(rule: Score, verdict: JudgeVerdict, metric: str = "acc") -> Score:
    """The rule's score with ``metric`` replaced by the judge's verdict (None when it could not grade); the
    rule's own value stays as ``metadata["rule_<metric>"]`` and the whole judge call as ``metadata["judge"]``."""
    values = dict(rule.values)
    metadata = dict(rule.metadata)
    if metric in values:
        metadata[f"rule_{metric}"] = values[metric]
    metadata["judge"] = verdict.model_dump(mode="json")
    if verdict.rating is not None:
        values[metric] = verdict.rating / RATING_MAX
        explanation = f"judge: rated {verdict.rating:g}/{RATING_MAX}"
    else:
        values[metric] = None if verdict.correct is None else float(verdict.correct)
        explanation = f"judge: {'CORRECT' if verdict.correct else 'INCORRECT'}"
    if verdict.error is not None:
        explanation = f"judge failed ({verdict.error}); not graded"
    elif values[metric] is None:
        explanation = "judge gave no readable verdict; not graded"
    return rule.model_copy(update={"values": values, "metadata": metadata, "explanation": explanation})


def judge_failed(score: Score) -> bool:
    """Whether the judge's request failed for this score (a resumed run asks again; unreadable replies stay)."""
    judge = score.metadata.get("judge")
    return isinstance(judge, dict) and judge.get("error") is not None

"""Prompt sets read from files: openqa, line_by_line, longalpaca, sharegpt, custom.

A local ``--dataset-path`` always wins; without one, the sets that have a public source download it
from the Hugging Face hub (and fail with one clear line when offline).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from assay.data.readers import read_rows
from assay.errors import DatasetError
from assay.perf.config import PerfConfig
from assay.perf.datasets import ListPromptSet, Prompt, PromptSet, register_prompt_set
from assay.utils.tokenizer import Tokenizer

# Where each set lives on the hub when no local path is given: (repo id, file name).
HUB_SOURCES = {
    "openqa": ("Hello-SimpleAI/HC3-Chinese", "open_qa.jsonl"),
    "longalpaca": ("Yukang/LongAlpaca-12k", "LongAlpaca-12k.json"),
    "sharegpt": ("anon8231489123/ShareGPT_Vicuna_unfiltered", "ShareGPT_V3_unfiltered_cleaned_split.json"),
}
_TEXT_KEYS = ("question", "prompt", "query", "instruction", "text", "input")


def resolve_path(config: PerfConfig) -> Path:
    """The local file of the prompt set: ``--dataset-path``, or a hub download for sets that have one."""
    if config.dataset_path:
        path = Path(config.dataset_path).expanduser()
        if not path.is_file():
            raise DatasetError(f"dataset file not found: {config.dataset_path}")
        return path
    source = HUB_SOURCES.get(config.dataset)
    if source is None:
        raise DatasetError(f"--dataset {config.dataset} needs --dataset-path FILE")
    return _hub_file(config.dataset, *source)


def _hub_file(dataset: str, repo: str, filename: str) -> Path:
    """One file of a hub dataset: from the cache if there, else downloaded; offline fails fast, in one line."""
    hint = f"pass --dataset-path FILE (a local copy of {repo}/{filename})"
    try:
        from huggingface_hub import constants, hf_hub_download
    except ImportError:
        raise DatasetError(f"--dataset {dataset} without --dataset-path needs huggingface_hub "
                           f"(pip install huggingface_hub), or {hint}") from None
    try:
        return Path(hf_hub_download(repo_id=repo, filename=filename, repo_type="dataset", local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached: go on to download
        pass
    if constants.HF_HUB_OFFLINE or not _reachable(constants.ENDPOINT):
        raise DatasetError(f"{repo} is not cached and the hub is not reachable (offline); {hint}")
    try:
        return Path(hf_hub_download(repo_id=repo, filename=filename, repo_type="dataset"))
    except Exception as exc:  # noqa: BLE001 - missing repo, auth, network: all one message
        raise DatasetError(f"could not download {repo}/{filename} ({exc.__class__.__name__}); {hint}") from None


def _reachable(url: str, timeout_s: float = 3.0) -> bool:
    # The hub client retries a dead network for ~30 s with a warning each time; one quick connect tells.
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def read_records(path: Path) -> list[Any]:
    """The items of a JSON array or JSONL file (``assay.data``'s reader: one place for file formats)."""
    if path.stat().st_size == 0:
        return []
    return read_rows(path)


class LengthFilter:
    """Keeps prompts whose length (tokens with a tokenizer, else characters) lies in the configured range."""

    def __init__(self, config: PerfConfig, tokenizer: Tokenizer | None) -> None:
        self.low, self.high = config.min_prompt_length, config.max_prompt_length
        self.tokenizer = tokenizer
        self.dropped = 0

    def length(self, text: str) -> int:
        return len(self.tokenizer.encode(text)) if self.tokenizer is not None else len(text)

    def keep(self, text: str) -> bool:
        ok = bool(text.strip()) and self.low <= self.length(text) <= self.high
        self.dropped += not ok
        return ok


def _finish(name: str, path: Path, prompts: list[Prompt], length_filter: LengthFilter) -> PromptSet:
    if not prompts:
        why = f" ({length_filter.dropped} outside --min/--max-prompt-length)" if length_filter.dropped else ""
        raise DatasetError(f"no prompts in {path} for --dataset {name}{why}")
    return ListPromptSet(name, prompts)


def _user(text: str) -> Prompt:
    return Prompt([{"role": "user", "content": text}])


def _text_of(item: Any, keys: Iterable[str] = _TEXT_KEYS) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in keys:
            value = item.get(key)
            if isinstance(value, str):
                return value
    return None


@register_prompt_set("openqa")
def openqa(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Open questions: JSONL with a ``question`` field (HC3's open_qa.jsonl) or ``prompt``/``query``."""
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    prompts = [_user(text) for item in read_records(path) if (text := _text_of(item)) is not None and keep.keep(text)]
    return _finish("openqa", path, prompts, keep)


@register_prompt_set("longalpaca")
def longalpaca(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Long-context instructions: LongAlpaca-12k's JSON (``instruction`` field)."""
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    prompts = [_user(text) for item in read_records(path)
               if (text := _text_of(item, ("instruction", "prompt", "question", "text"))) and keep.keep(text)]
    return _finish("longalpaca", path, prompts, keep)


@register_prompt_set("line_by_line")
def line_by_line(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """One prompt per non-empty line of a text file."""
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text") from None
    prompts = [_user(line.strip()) for line in lines if line.strip() and keep.keep(line.strip())]
    return _finish("line_by_line", path, prompts, keep)


@register_prompt_set("sharegpt")
def sharegpt(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """ShareGPT conversations (``conversations: [{from, value}]``): the first human turn is the prompt,
    and all human turns are kept for multi-turn runs."""
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    prompts = []
    for item in read_records(path):
        turns = [t.get("value", "") for t in (item.get("conversations") or [])
                 if isinstance(t, dict) and t.get("from") in ("human", "user")] if isinstance(item, dict) else []
        if turns and keep.keep(turns[0]):
            prompts.append(Prompt([{"role": "user", "content": turns[0]}], turns=turns))
    return _finish("sharegpt", path, prompts, keep)


@register_prompt_set("custom")
def custom(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """JSONL (or a JSON array) of ``{"messages": [...]}``, ``{"prompt": "..."}`` or plain strings.

    An item may add ``tools`` (OpenAI tool definitions) and ``tool_choice``: its requests offer them, so
    a plan load-tests tool calling (records count the calls each answer made).
    """
    if not config.dataset_path:
        raise DatasetError("--dataset custom needs --dataset-path FILE")
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    prompts = []
    for number, item in enumerate(read_records(path), 1):
        if isinstance(item, dict) and isinstance(item.get("messages"), list):
            messages = item["messages"]
            if not all(isinstance(m, dict) and "role" in m and "content" in m for m in messages):
                raise DatasetError(f"{path} item {number}: every message needs a role and content")
            text = "\n".join(m["content"] for m in messages if isinstance(m["content"], str))
            prompt: Prompt | None = Prompt(messages) if keep.keep(text) else None
        else:
            text = _text_of(item)
            if text is None:
                raise DatasetError(f"{path} item {number}: expected messages, a prompt field or a string")
            prompt = _user(text) if keep.keep(text) else None
        if prompt is not None:
            if isinstance(item, dict):
                prompt.tools, prompt.tool_choice = _tools_of(item, path, number)
            prompts.append(prompt)
    return _finish("custom", path, prompts, keep)


def _tools_of(item: dict[str, Any], path: Path, number: int) -> tuple[list[dict[str, Any]] | None, Any]:
    """An item's ``tools`` and ``tool_choice``, checked enough that a typo fails here, not in every request."""
    tools = item.get("tools")
    if tools is None:
        return None, item.get("tool_choice")
    if not isinstance(tools, list) or not all(
            isinstance(t, dict) and isinstance(t.get("function"), dict) and t["function"].get("name") for t in tools):
        raise DatasetError(f"{path} item {number}: tools must be a list of "
                           '{"type": "function", "function": {"name": ...}} objects')
    return tools, item.get("tool_choice")

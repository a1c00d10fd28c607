"""Servers for the perf tests: a small scripted OpenAI-style server in a thread (exact, hand-set timings)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import orjson
import pytest
from aiohttp import web

from tests.helpers.loopback_server import LoopbackServer


@dataclass
class Script:
    """How the scripted server answers: ``chunks`` tokens, one per chunk, after ``ttft_s``, ``itl_s`` apart."""

    chunks: int = 8
    ttft_s: float = 0.0
    itl_s: float = 0.0
    usage: bool = True
    status: int = 200
    fail_every: int = 0  # every n-th request gets HTTP 500
    seen: list[dict] = field(default_factory=list)


def _chunk(text: str, finish: str | None = None) -> bytes:
    event = {"id": "r", "model": "m", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}
    return b"data: " + orjson.dumps(event) + b"\n\n"


class ScriptedServer(LoopbackServer):
    """An aiohttp server on 127.0.0.1:0 in its own thread and event loop, answering as ``script`` says."""

    def __init__(self, script: Script) -> None:
        super().__init__(self._answer, routes=(("POST", "/v1/chat/completions"), ("POST", "/v1/completions")))
        self.script = script

    @property
    def count(self) -> int:
        return self.requests

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.script.seen.append({"headers": dict(request.headers), "body": body, "url": str(request.rel_url)})
        s = self.script
        if s.status != 200:
            return web.json_response({"error": {"message": "scripted"}}, status=s.status)
        if s.fail_every and self.count % s.fail_every == 0:
            return web.json_response({"error": {"message": "scripted failure"}}, status=500)
        n = min(s.chunks, body.get("max_tokens") or s.chunks)
        usage = {"prompt_tokens": 7, "completion_tokens": n, "total_tokens": 7 + n}
        if not body.get("stream"):
            await asyncio.sleep(s.ttft_s + s.itl_s * (n - 1))
            message = {"role": "assistant", "content": "x " * n}
            return web.json_response({"id": "r", "choices": [{"index": 0, "message": message, "finish_reason": "length"}],
                                      **({"usage": usage} if s.usage else {})})
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await asyncio.sleep(s.ttft_s)
        for i in range(n):
            if i:
                await asyncio.sleep(s.itl_s)
            await resp.write(_chunk("x ", "length" if i == n - 1 else None))
        if s.usage:
            await resp.write(b"data: " + orjson.dumps({"id": "r", "choices": [], "usage": usage}) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp


@pytest.fixture
def scripted():
    """``scripted(Script(...))`` starts a server; all are stopped after the test."""
    servers: list[ScriptedServer] = []

    def start(script: Script | None = None) -> ScriptedServer:
        server = ScriptedServer(script or Script())
        server.__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture
def prompts_file(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("What is 2+2?\nName a colour.\n\nWhy is the sky blue?\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tokenizer_path(tmp_path_factory):
    """A tiny byte-level BPE tokenizer trained on local text in well under a second."""
    pytest.importorskip("tokenizers", reason="tokenizers is not installed (the `local` or `serving` extra)")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    text = [
        "The quick brown fox jumps over the lazy dog. " * 3,
        "Load tests measure time to first token, time per output token and throughput. " * 3,
        "Servers batch requests continuously; latency grows with the running batch. " * 3,
    ]
    tokenizer.train_from_iterator(text, trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tokenizer.save(str(path))
    return str(path)

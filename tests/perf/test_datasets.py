"""Prompt sets: local files of each kind, exact-length random prompts, clear errors for bad input."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from assay.errors import ConfigError, DatasetError
from assay.perf import PerfConfig
from assay.perf.datasets import load_prompt_set
from assay.utils.tokenizer import load_tokenizer
from tests.helpers.shared_data import shared_path

pytestmark = pytest.mark.timeout(60)
URL = "http://127.0.0.1:9/v1"


def load(tokenizer=None, **kw):
    config = PerfConfig(url=URL, model="m", **kw)
    return load_prompt_set(config, load_tokenizer(tokenizer) if tokenizer else None)


def texts(prompt_set, n):
    return [prompt_set.prompt(i).text for i in range(n)]


def test_line_by_line_skips_blank_lines_and_cycles(prompts_file):
    ps = load(dataset="line_by_line", dataset_path=str(prompts_file))
    assert ps.size == 3
    assert texts(ps, 4) == ["What is 2+2?", "Name a colour.", "Why is the sky blue?", "What is 2+2?"]


def test_openqa_jsonl_and_length_filter_in_characters(tmp_path):
    path = tmp_path / "open_qa.jsonl"
    path.write_text("\n".join(json.dumps({"question": q, "human_answers": []}) for q in ["short", "a bit longer"]))
    assert texts(load(dataset="openqa", dataset_path=str(path)), 2) == ["short", "a bit longer"]
    ps = load(dataset="openqa", dataset_path=str(path), min_prompt_length=6)
    assert texts(ps, 1) == ["a bit longer"]
    with pytest.raises(DatasetError, match="1 outside|2 outside"):
        load(dataset="openqa", dataset_path=str(path), min_prompt_length=100)


def test_longalpaca_json_array(tmp_path):
    path = tmp_path / "LongAlpaca-12k.json"
    path.write_text(json.dumps([{"instruction": "Summarise this long paper ...", "output": "..."}]))
    assert texts(load(dataset="longalpaca", dataset_path=str(path)), 1) == ["Summarise this long paper ..."]


def test_sharegpt_real_file_first_human_turn():
    ps = load(dataset="sharegpt", dataset_path=str(shared_path("sharegpt", "ShareGPT_V3_filtered_500.json")))
    assert ps.size == 500
    first = ps.prompt(0)
    assert first.messages[0]["role"] == "user" and first.text.strip() and first.turns[0] == first.text


def test_custom_messages_prompts_and_strings(tmp_path):
    path = tmp_path / "custom.jsonl"
    rows = [{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]},
            {"prompt": "plain prompt"}, "just a string"]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ps = load(dataset="custom", dataset_path=str(path))
    assert ps.prompt(0).messages[0] == {"role": "system", "content": "be brief"}
    assert texts(ps, 3)[1:] == ["plain prompt", "just a string"]


@pytest.mark.parametrize("dataset, name", [("line_by_line", "empty.txt"), ("openqa", "empty.jsonl"),
                                           ("custom", "empty.jsonl"), ("sharegpt", "empty.json")])
def test_empty_file_is_one_line_dataset_error(tmp_path, dataset, name):
    path = tmp_path / name
    path.write_text("\n\n" if name.endswith("l") or name.endswith("txt") else "[]")
    with pytest.raises(DatasetError, match="no prompts in"):
        load(dataset=dataset, dataset_path=str(path))


def test_missing_file_and_missing_path_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load(dataset="line_by_line", dataset_path=str(tmp_path / "nope.txt"))
    with pytest.raises(DatasetError, match="needs --dataset-path"):
        load(dataset="line_by_line")
    with pytest.raises(DatasetError, match="line 2 is not JSON"):
        (tmp_path / "bad.jsonl").write_text('{"prompt": "x"}\n{oops\n')
        load(dataset="custom", dataset_path=str(tmp_path / "bad.jsonl"))


def test_hub_without_path_fails_fast_offline_with_one_clear_line(monkeypatch, tmp_path):
    import time

    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # a hub that cannot be reached
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(DatasetError, match="not reachable.*--dataset-path"):
        load(dataset="openqa")
    assert time.monotonic() - start < 10


def test_random_prompts_have_exact_token_lengths(tokenizer_path):
    tok = load_tokenizer(tokenizer_path)
    ps = load(tokenizer_path, dataset="random", min_prompt_length=20, max_prompt_length=60, seed=1)
    assert ps.size is None
    for i in range(20):
        p = ps.prompt(i)
        assert 20 <= p.input_tokens <= 60
        assert len(tok.encode(p.text)) == p.input_tokens
    assert ps.prompt(5).text == ps.prompt(5).text  # a pure function of (seed, index)
    assert ps.prompt(5).text != ps.prompt(6).text


def test_random_shared_prefix(tokenizer_path):
    tok = load_tokenizer(tokenizer_path)
    ps = load(tokenizer_path, dataset="random", min_prompt_length=30, max_prompt_length=30, prefix_length=50)
    a, b = ps.prompt(0).text, ps.prompt(1).text
    common = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
    assert len(tok.encode(a[:common])) >= 45  # the first ~50 tokens are shared
    assert len(tok.encode(a)) == ps.prompt(0).input_tokens == 80


def test_random_needs_a_tokenizer():
    with pytest.raises(ConfigError, match="--tokenizer-path"):
        load(dataset="random")


def test_random_vl_images_are_valid_pngs(tokenizer_path):
    ps = load(tokenizer_path, dataset="random_vl", min_prompt_length=5, max_prompt_length=5, image_num=2,
              image_width=16, image_height=8)
    parts = ps.prompt(0).messages[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "image_url"]
    png = base64.b64decode(parts[1]["image_url"]["url"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    idat_len = int.from_bytes(png[33:37], "big")
    raw = zlib.decompress(png[41:41 + idat_len])
    assert len(raw) == 8 * (1 + 16 * 3)


def test_single_prompt_option(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("from a file")
    assert texts(load(prompt="hello"), 2) == ["hello", "hello"]
    assert texts(load(prompt=f"@{f}"), 1) == ["from a file"]

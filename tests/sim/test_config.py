"""SimConfig: length specs, validation, and descriptions (the CLI's help text comes from them)."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from assay.sim.config import LengthSpec, SimConfig, parse_length_spec

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("128", LengthSpec("fixed", 128)),
        ("0", LengthSpec("fixed", 0)),
        ("uniform:16:256", LengthSpec("uniform", 16, 256)),
        (" Uniform:3:3 ", LengthSpec("uniform", 3, 3)),
        ("normal:100:20", LengthSpec("normal", 100.0, 20.0)),
        ("max", LengthSpec("max")),
    ],
)
def test_parse_length_spec(spec, expected):
    assert parse_length_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "-1", "abc", "uniform:5", "uniform:9:3", "uniform:-1:3", "normal:-5:1",
                                  "normal:5:-1", "gauss:1:2", "1.5", "max:3"])
def test_bad_length_specs(spec):
    with pytest.raises(ValueError, match="bad length spec"):
        parse_length_spec(spec)


def test_draws():
    rng = random.Random(0)
    assert parse_length_spec("7").draw(rng, 100) == 7
    assert parse_length_spec("max").draw(rng, 33) == 33
    assert all(2 <= parse_length_spec("uniform:2:4").draw(rng, 100) <= 4 for _ in range(100))
    draws = [parse_length_spec("normal:50:5").draw(rng, 100) for _ in range(2000)]
    assert 48 < sum(draws) / len(draws) < 52 and min(draws) >= 0


def test_config_validation_messages():
    with pytest.raises(ValidationError, match="bad length spec"):
        SimConfig(output_len="lots")
    with pytest.raises(ValidationError, match="reasoning_len"):
        SimConfig(reasoning_len="uniform:1")
    with pytest.raises(ValidationError, match="add up to more than 1"):
        SimConfig(error_rate=0.6, rate_429=0.6)
    with pytest.raises(ValidationError, match="extra"):
        SimConfig(latency="fast")
    with pytest.raises(ValidationError):
        SimConfig(reasoning="maybe")
    with pytest.raises(ValidationError):
        SimConfig(ttft_ms=-1)


def test_every_field_has_a_description():
    for name, field in SimConfig.model_fields.items():
        assert field.description and field.description.strip().endswith("."), name


def test_defaults_and_round_trip_through_json():
    config = SimConfig()
    assert (config.host, config.port, config.model) == ("127.0.0.1", 8801, "assay-sim")
    assert config.latency_model == "engine" and config.max_batch_size == 256 and config.itl_ms == 8.0
    assert not config.instant
    assert SimConfig(latency_model="fixed", ttft_ms=0, itl_ms=0).instant
    assert SimConfig.model_validate_json(config.model_dump_json()) == config

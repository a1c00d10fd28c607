"""Core types shared by every layer."""

from assay.types.completion import Completion, ErrorInfo, TokenSource, Timings, ToolCall, Usage
from assay.types.generation import GenerationConfig
from assay.types.message import Message
from assay.types.sample import Sample, SampleResult, Score

__all__ = [
    "Completion", "ErrorInfo", "GenerationConfig", "Message", "Sample", "SampleResult", "Score",
    "Timings", "TokenSource", "ToolCall", "Usage",
]

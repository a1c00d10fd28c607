"""One async OpenAI-compatible client (chat and completions, streaming or not) for perf and eval."""

from assay.client.client import OpenAIClient
from assay.client.config import Api, ClientConfig, split_endpoint_url
from assay.client.pooling import PoolingApi
from assay.client.stream import ResponseAccumulator, SSEDecoder

__all__ = ["Api", "ClientConfig", "OpenAIClient", "PoolingApi", "ResponseAccumulator", "SSEDecoder", "split_endpoint_url"]

"""The endpoints of a perf run (``--url`` given once or several times): one client each and a picker.

Each event loop (the inline run, each ``--num-workers`` process, each Ray actor) opens its own ``Endpoints``
and spreads its own requests over every endpoint; worker k starts its round-robin at endpoint k, and
least-loaded counts that loop's own requests in flight. Splitting endpoints among workers instead would tie
the load on each replica to the worker count and leave replicas idle when workers < endpoints.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from assay.client import OpenAIClient
from assay.client.endpoints import EndpointPicker, EndpointPolicy

if TYPE_CHECKING:
    from assay.perf.config import PerfConfig


class Endpoints:
    """One ``OpenAIClient`` per endpoint, each named by its redacted base URL, behind one picker."""

    def __init__(self, clients: list[OpenAIClient], labels: list[str], policy: EndpointPolicy = "round-robin",
                 *, start: int = 0) -> None:
        self.clients = clients
        self.labels = labels
        self.picker = EndpointPicker(len(clients), policy, start=start)

    @classmethod
    def from_config(cls, config: PerfConfig, *, start: int = 0) -> Endpoints:
        count = len(config.urls)
        return cls([OpenAIClient(config.client_config(k)) for k in range(count)], config.endpoint_labels,
                   config.endpoint_policy, start=start)

    @property
    def first(self) -> OpenAIClient:
        """The first endpoint's client (request bodies are built with it: the model name is the same for all)."""
        return self.clients[0]

    @contextmanager
    def using(self) -> Iterator[tuple[OpenAIClient, str]]:
        """The client and label of the endpoint the picker chose, counted in flight while inside."""
        with self.picker.using() as index:
            yield self.clients[index], self.labels[index]

    async def __aenter__(self) -> Endpoints:
        for client in self.clients:
            await client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for client in self.clients:
            await client.close()

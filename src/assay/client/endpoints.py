"""Several replicas of one model with no load balancer in front: which endpoint the next request goes to.

``assay perf`` and ``assay eval`` both take several URLs and spread their requests over them with an
``EndpointPicker``. Round-robin sends request i to endpoint i mod n, which matches what a balancer in front of
identical replicas would do; least-loaded sends each request to the endpoint with the fewest requests of this
process still in flight, so a slower (or busier) replica gets fewer and the faster ones take up the slack.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Literal

from assay.client.client import OpenAIClient
from assay.client.config import ClientConfig

EndpointPolicy = Literal["round-robin", "least-loaded"]
ENDPOINT_POLICIES: tuple[EndpointPolicy, ...] = ("round-robin", "least-loaded")


def one_or_several_urls(value: Any) -> Any:
    """A URL field's input as stored: one URL stays a string (config files and run fingerprints as before
    several were allowed), several make a list, an empty list is none (a before-validator of config models)."""
    if isinstance(value, (list, tuple)):
        urls = [v for v in value if v is not None]
        if not urls:
            return None
        return urls[0] if len(urls) == 1 else urls
    return value


def url_list(value: str | list[str] | None) -> list[str]:
    """A URL field as a list: none, one, or several."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class EndpointPicker:
    """Picks an endpoint index per request and counts each endpoint's requests in flight.

    Single event loop, no locks: ``pick`` and ``release`` never await. ``start`` offsets the round-robin
    (worker k of a perf run starts at endpoint k, so the first requests of all workers don't land on one
    replica); least-loaded breaks ties the same rotating way.
    """

    def __init__(self, count: int, policy: EndpointPolicy = "round-robin", *, start: int = 0) -> None:
        if count < 1:
            raise ValueError("an endpoint picker needs at least one endpoint")
        if policy not in ENDPOINT_POLICIES:
            raise ValueError(f"unknown endpoint policy {policy!r} (use {' or '.join(ENDPOINT_POLICIES)})")
        self.policy = policy
        self.in_flight = [0] * count
        self._next = start % count

    @property
    def count(self) -> int:
        return len(self.in_flight)

    def pick(self) -> int:
        """The endpoint for the next request, counted in flight until ``release``."""
        n = self.count
        if self.policy == "least-loaded":
            chosen = min(range(n), key=lambda k: (self.in_flight[k], (k - self._next) % n))
        else:
            chosen = self._next
        self._next = (chosen + 1) % n
        self.in_flight[chosen] += 1
        return chosen

    def release(self, index: int) -> None:
        self.in_flight[index] -= 1

    @contextmanager
    def using(self) -> Iterator[int]:
        """``with picker.using() as k:`` one request (or conversation) on endpoint ``k``."""
        index = self.pick()
        try:
            yield index
        finally:
            self.release(index)


class EndpointClients:
    """One ``OpenAIClient`` per endpoint behind one picker, each named by its base URL with credentials redacted
    (what records, predictions and messages show). ``async with`` opens and closes them all."""

    def __init__(self, configs: list[ClientConfig], policy: EndpointPolicy = "round-robin", *,
                 start: int = 0) -> None:
        self.clients = [OpenAIClient(config) for config in configs]
        self.labels = [config.display_url for config in configs]
        self.picker = EndpointPicker(len(configs), policy, start=start)

    @property
    def first(self) -> OpenAIClient:
        return self.clients[0]

    @contextmanager
    def using(self) -> Iterator[tuple[OpenAIClient, str]]:
        """The client and label of the endpoint the picker chose, counted in flight while inside."""
        with self.picker.using() as index:
            yield self.clients[index], self.labels[index]

    async def __aenter__(self) -> EndpointClients:
        for client in self.clients:
            await client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for client in self.clients:
            await client.close()

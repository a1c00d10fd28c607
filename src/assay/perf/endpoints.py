"""The endpoints of a perf run (``--url`` given once or several times): one client each and a picker.

Each event loop (the inline run, each ``--num-workers`` process, each Ray actor) opens its own endpoints and
spreads its own requests over all of them; worker k starts its round-robin at endpoint k, and least-loaded
counts that loop's own requests in flight. Splitting the endpoints among workers instead would tie the load
on each replica to the worker count and leave replicas idle when there are fewer workers than endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.client.endpoints import EndpointClients

if TYPE_CHECKING:
    from assay.perf.config import PerfConfig

def open_endpoints(config: PerfConfig, *, start: int = 0) -> EndpointClients:
    """The run's endpoints as clients (open them with ``async with``); ``start``: this worker's index."""
    configs = [config.client_config(k) for k in range(len(config.urls))]
    return EndpointClients(configs, config.endpoint_policy, start=start)

"""``assay.sim``: a simulated OpenAI-compatible server, so tests, benchmarks and the quickstart need no GPU.

- ``SimConfig``: every knob (``assay sim --help`` lists them as flags);
- ``SimServer``: the server in the current event loop (``async with SimServer(config) as sim``);
- ``SimProcess``: the server in a child process (``with SimProcess(config) as sim``), off the client's core;
- ``serve``: run it until SIGINT/SIGTERM, as ``assay sim`` does.

It speaks ``/v1/chat/completions`` and ``/v1/completions`` (streamed or not), ``/v1/models`` and
``/health``, plus ``/sim/stats``. See ``latency`` for the latency models, ``answers`` for what it says and
how tokens are counted, ``replay`` for replay files and ``faults`` for fault injection.
"""

from assay.sim.config import SimConfig
from assay.sim.process import SimProcess
from assay.sim.server import SimServer, serve

__all__ = ["SimConfig", "SimProcess", "SimServer", "serve"]

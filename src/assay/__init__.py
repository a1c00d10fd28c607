"""assay: how good and how fast is your LLM.

Load-test OpenAI-compatible servers (``assay perf``), run capability benchmarks (``assay eval``), mix them
into weighted collections, analyse thinking efficiency and browse everything in a web viewer.
"""

__version__ = "0.1.0"

"""EvalScope's import path for the JSON Lines helpers (``evalscope.utils.io_utils``): the same functions as
``assay.utils.io``, so a script written for EvalScope runs with ``evalscope`` changed to ``assay``."""

from assay.utils.io import dump_jsonl_data, iter_jsonl_data, load_jsonl_data

__all__ = ["dump_jsonl_data", "iter_jsonl_data", "load_jsonl_data"]

"""Model backends for evaluation: an OpenAI-compatible API, a local checkpoint, the simulator.

Each registers itself (``assay.models.registry``) with its ``eval_type`` name, EvalScope's aliases and a typed
``model_args`` model; ``make_model`` looks the task's ``eval_type`` up there.
"""

from __future__ import annotations

from assay.models.base import ModelBackend
from assay.models.registry import (BackendSpec, backends, canonical_eval_type, eval_type_names, get_backend,
                                   make_model, register_backend)

__all__ = ["BackendSpec", "ModelBackend", "backends", "canonical_eval_type", "eval_type_names", "get_backend",
           "make_model", "register_backend"]

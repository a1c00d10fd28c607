"""Model backends for evaluation: an OpenAI-compatible API, a local checkpoint, the simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.models.base import ModelBackend

if TYPE_CHECKING:
    from assay.eval.config import TaskConfig

__all__ = ["ModelBackend", "make_model"]


def make_model(task: TaskConfig) -> ModelBackend:
    """The backend ``task.eval_type`` names, configured from the task."""
    common = dict(stream=task.stream, read_timeout_s=task.read_timeout, total_timeout_s=task.total_timeout,
                  max_retries=task.max_retries, max_connections=task.eval_batch_size)
    if task.eval_type == "openai_api":
        from assay.models.openai_api import OpenAIAPIModel

        assert task.api_url
        return OpenAIAPIModel(model=task.model_name, api_url=task.api_url, api_key=task.api_key,
                              endpoint_policy=task.endpoint_policy, **common)
    if task.eval_type == "sim":
        from assay.models.sim import SimModel

        return SimModel(model=task.model_name, model_args=task.model_args, **common)
    from assay.models.checkpoint import CheckpointModel

    return CheckpointModel(model=task.model_name, model_args=task.model_args, batch_size=task.eval_batch_size)

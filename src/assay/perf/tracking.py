"""Optional experiment tracking: ``--wandb-api-key`` / ``--swanlab-api-key`` log each plan's summary and
percentiles (EvalScope's flag names; the ``track`` extra installs both libraries).

One tracked run per ``assay perf`` run, named after its run id, one step per plan: scalars
``summary/<metric>`` and ``percentiles/<metric>/p<N>``, plus (wandb) the percentile table. The keys reach
the libraries only in memory (wandb's ``Settings.api_key``, ``swanlab.login(save=False)``); neither
library's metadata collection (command line, environment, git, code) runs, so a key given on the command
line is not copied into their files. Their offline modes (``WANDB_MODE=offline``, ``SWANLAB_MODE=offline``
or ``local``) need no network; their files go under the run folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.perf.config import PerfConfig
from assay.perf.summary import PERCENTILE_METRICS, PlanSummary, percentile_rows

log = logging.getLogger("assay.perf")

_SCALARS = (
    "total_requests", "succeeded_requests", "failed_requests", "duration_s", "request_throughput_rps",
    "input_throughput_tps", "output_throughput_tps", "total_throughput_tps", "goodput_rps", "mean_ttft_s",
    "median_ttft_s", "mean_tpot_s", "median_tpot_s", "mean_itl_s", "median_itl_s", "mean_latency_s",
    "median_latency_s", "mean_input_tokens", "mean_output_tokens",
)


def metrics_of(summary: PlanSummary) -> dict[str, float]:
    """The numbers logged for one plan: summary scalars and every percentile (undefined ones left out)."""
    out: dict[str, float] = {}
    for name in _SCALARS:
        value = getattr(summary, name)
        if value is not None:
            out[f"summary/{name}"] = float(value)
    for metric, values in summary.percentiles.items():
        for key, value in values.items():
            if value is not None:
                out[f"percentiles/{metric}/{key}"] = float(value)
    if summary.parallel is not None:
        out["plan/parallel"] = float(summary.parallel)
    if summary.rate is not None:
        out["plan/rate"] = float(summary.rate)
    return out


def check_installed(config: PerfConfig) -> None:
    """Fail before any request when a tracker is asked for but its library is missing."""
    for wanted, module in ((config.wandb_api_key, "wandb"), (config.swanlab_api_key, "swanlab")):
        if wanted is None:
            continue
        try:
            __import__(module)
        except ImportError:
            raise ConfigError(f"--{module}-api-key needs the {module} package: pip install 'assay[track]'") from None


class Trackers:
    """The open wandb and/or swanlab runs of one perf run (none when no key was given)."""

    def __init__(self, config: PerfConfig, run_dir: Path, run_name: str) -> None:
        self._wandb: Any = None
        self._swanlab: Any = None
        settings = {"config": _public_config(config)}
        if config.wandb_api_key is not None:
            self._wandb = _open_wandb(config, run_dir, run_name, settings["config"])
        if config.swanlab_api_key is not None:
            self._swanlab = _open_swanlab(config, run_dir, run_name, settings["config"])

    def log_plan(self, step: int, summary: PlanSummary) -> None:
        """Log one plan's numbers as step ``step``; a tracker that fails is reported and dropped, never fatal."""
        metrics = metrics_of(summary)
        if self._wandb is not None:
            try:
                import wandb

                table = wandb.Table(columns=["percentile", *PERCENTILE_METRICS],
                                    data=[[row[c] for c in ("percentile", *PERCENTILE_METRICS)]
                                          for row in percentile_rows(summary)])
                self._wandb.log({**metrics, f"percentiles/{summary.plan}": table}, step=step)
            except Exception as exc:  # noqa: BLE001 - tracking must not end a load test
                log.warning("wandb logging failed (%s); going on without it", exc.__class__.__name__)
                self._wandb = None
        if self._swanlab is not None:
            try:
                self._swanlab.log(metrics, step=step)
            except Exception as exc:  # noqa: BLE001
                log.warning("swanlab logging failed (%s); going on without it", exc.__class__.__name__)
                self._swanlab = None

    def finish(self) -> None:
        for run in (self._wandb, self._swanlab):
            if run is not None:
                try:
                    run.finish()
                except Exception as exc:  # noqa: BLE001
                    log.warning("closing a tracking run failed (%s)", exc.__class__.__name__)
        self._wandb = self._swanlab = None


def _public_config(config: PerfConfig) -> dict[str, Any]:
    return config.public_dump()


def _open_wandb(config: PerfConfig, run_dir: Path, name: str, public: dict[str, Any]) -> Any:
    import wandb

    key = config.wandb_api_key.get_secret_value() if config.wandb_api_key is not None else ""
    settings = wandb.Settings(
        api_key=key or None, x_disable_meta=True, disable_code=True, save_code=False, disable_git=True,
        x_disable_stats=True, console="off", silent=True,
    )
    folder = run_dir / "wandb"
    folder.mkdir(parents=True, exist_ok=True)
    return wandb.init(project=config.tracking_project, name=name, config=public, dir=str(run_dir),
                      settings=settings, reinit="create_new")


def _open_swanlab(config: PerfConfig, run_dir: Path, name: str, public: dict[str, Any]) -> Any:
    import swanlab

    mode = os.environ.get("SWANLAB_MODE") or "online"
    key = config.swanlab_api_key.get_secret_value() if config.swanlab_api_key is not None else ""
    if mode == "online" and key:
        swanlab.login(api_key=key, save=False)
    settings = swanlab.Settings(
        probe={"runtime": False, "requirements": False, "conda": False, "git": False, "hardware": False,
               "monitor": False},
        terminal={"proxy_type": "none"},
    )
    return swanlab.init(project=config.tracking_project, name=name, config=public, mode=mode,
                        log_dir=str(run_dir / "swanlog"), settings=settings, reinit=True)

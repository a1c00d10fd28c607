"""A perf run's result files written from its records: what a run does as each plan ends and after the last,
and what ``assay perf rebuild RUN_DIR`` does for a run that was killed (``kill -9``, a crash, a lost machine).

Both go through :func:`finish_plan` and :func:`finish_run`, so a rebuilt run's ``summary.json``,
``percentiles.json``, ``sweep.json`` and charts are the ones the run would have written. What summarising
needs beyond the rows (the plan, the API, the SLOs, the worker count) is stored in the records file's
``meta`` table when the plan starts; ``interrupted`` is stored when it ends, so a plan without it was killed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import yaml
from rich.console import Console

from assay.errors import ConfigError
from assay.perf import charts, report
from assay.perf.plans import LoadPlan
from assay.perf.ramps import Ramp
from assay.perf.records import (
    count_requests,
    merge_records,
    read_columns,
    read_endpoints,
    read_health,
    read_meta,
    read_repeats,
    read_server_metrics,
    write_meta,
)
from assay.perf.server_metrics import ServerView
from assay.perf.metrics import RequestColumns
from assay.perf.summary import (
    EndpointSummary,
    PlanSummary,
    laid_end_to_end,
    repeat_stats,
    summarize,
    summarize_endpoint,
)

RECORDS_FILE = "records.sqlite"
_WORKER_PARTS = "records.worker*.sqlite"


@dataclass(frozen=True)
class PlanSettings:
    """What summarising a plan needs beyond its records (kept in their ``meta`` table)."""

    plan: LoadPlan
    api: str = "chat"
    slo_ms: dict[str, float] | None = None
    workers: int = 1
    model: str = ""
    # The endpoints' redacted base URLs (several --url); the first is where rows with none recorded went.
    endpoints: tuple[str, ...] = ()

    def meta(self) -> dict[str, str]:
        plan = self.plan
        return {"plan": plan.name, "parallel": str(plan.parallel), "rate": str(plan.rate), "number": str(plan.number),
                "model": self.model, "api": self.api, "workers": str(self.workers),
                "endpoints": orjson.dumps(list(self.endpoints)).decode(),
                "slo_ms": orjson.dumps(self.slo_ms or {}).decode(),
                "load_plan": orjson.dumps({"distribution": plan.distribution, "burstiness": plan.burstiness,
                                           "duration_s": plan.duration_s, "trace_speed": plan.trace_speed,
                                           "arrivals_s": plan.arrivals_s,
                                           "ramp": None if plan.ramp is None else asdict(plan.ramp)}).decode()}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> PlanSettings:
        """The settings a plan started with; ``KeyError`` or ``ValueError`` when the file has none."""
        optional = (lambda text, kind: None if text in (None, "None") else kind(text))
        shape = orjson.loads(meta["load_plan"])
        plan = LoadPlan(number=int(meta["number"]), parallel=optional(meta["parallel"], int),
                        rate=optional(meta["rate"], float), distribution=shape["distribution"],
                        burstiness=float(shape["burstiness"]), duration_s=shape["duration_s"],
                        arrivals_s=_tuple_or_none(shape.get("arrivals_s")), trace_speed=shape.get("trace_speed"),
                        ramp=Ramp(**shape["ramp"]) if shape.get("ramp") else None)
        return cls(plan, api=meta["api"], slo_ms=orjson.loads(meta["slo_ms"]) or None, workers=int(meta["workers"]),
                   model=meta.get("model", ""), endpoints=tuple(orjson.loads(meta.get("endpoints", "[]"))))


def _tuple_or_none(values: list[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(float(v) for v in values)


def start_plan(records: Path, settings: PlanSettings) -> None:
    """Note the plan's settings and start time in its (new) records file, before any request."""
    write_meta(records, {**settings.meta(), "started": datetime.now().isoformat(timespec="microseconds")})


def finish_plan(records: Path, settings: PlanSettings, *, interrupted: bool, draw_charts: bool) -> PlanSummary:
    """Summarise one plan from ``records`` (with the server's view where it was scraped) and write
    ``summary.json``, ``percentiles.json`` and (with ``draw_charts``) ``latency_distribution.png`` and
    ``server_metrics.png`` next to it."""
    summary, columns = summarize_plan(records, settings, interrupted=interrupted)
    server = read_meta(records).get("server_view")
    if server is not None:
        summary.server = ServerView.model_validate_json(server)
        summary.server.compare(summary.mean_ttft_s, summary.mean_latency_s)
    if draw_charts:
        charts.latency_distributions(columns, f"{settings.plan.name}: latency distributions",
                                     records.parent / "latency_distribution.png")
        if server is not None:
            charts.server_timeline(read_server_metrics(records), columns, f"{settings.plan.name}: server and client",
                                   records.parent / "server_metrics.png")
    report.write_plan_files(records.parent, summary)
    return summary


def summarize_plan(records: Path, settings: PlanSettings, *,
                   interrupted: bool = False) -> tuple[PlanSummary, RequestColumns]:
    """The plan's summary and the per-request columns it came from. A plan run several times (--repeats) is
    summarised once per repeat, for each metric's mean and interval over the repeats, and once over all its
    requests with the repeats laid end to end (the summary's own fields)."""
    options = dict(slo_ms=dict(settings.slo_ms or {}), health_samples=read_health(records),
                   workers=settings.workers, interrupted=interrupted, api=settings.api)
    repeats = read_repeats(records)
    if len(repeats) == 1:
        columns, itl = read_columns(records)
        summary = summarize(settings.plan, columns, itl, **options)
        summary.endpoints = _endpoint_summaries(records, settings, summary.duration_s)
        return summary, columns
    parts, per_repeat = [], []
    for repeat in repeats:
        part, part_itl = read_columns(records, repeat=repeat)
        parts.append(part)
        per_repeat.append(summarize(settings.plan, part, part_itl, **options))
    columns = laid_end_to_end(parts)
    _, itl = read_columns(records)
    summary = summarize(settings.plan, columns, itl, **options)
    summary.repeats = len(repeats)
    summary.repeat_stats = repeat_stats(per_repeat)
    summary.endpoints = _endpoint_summaries(records, settings, summary.duration_s)
    return summary, columns


def _endpoint_summaries(records: Path, settings: PlanSettings, duration_s: float) -> list[EndpointSummary] | None:
    """Each endpoint's share of the plan, when its requests went to more than one (else None)."""
    default = settings.endpoints[0] if settings.endpoints else None
    found = read_endpoints(records, default)
    if len(found) < 2:
        return None
    # The configured order first (an endpoint that got no request is still listed), then any other found.
    names = list(dict.fromkeys([*settings.endpoints, *found]))
    return [summarize_endpoint(name, read_columns(records, endpoint=name, default_endpoint=default)[0],
                               duration_s=duration_s, api=settings.api) for name in names]


def finish_run(folder: Path, summaries: list[PlanSummary], *, draw_charts: bool, console: Console | None) -> None:
    """``sweep.json`` (and ``sweep.png``) of a run of several plans; the sweep table on ``console``; and the
    run's ``report.html`` (one page that opens offline, its charts drawn inline whatever ``draw_charts``)."""
    from assay.perf.html_report import write_report  # it reads RECORDS_FILE from here

    if len(summaries) > 1:
        report.write_json(folder / "sweep.json", [s.to_json() for s in summaries])
        if console is not None:
            console.print(report.sweep_table(summaries))
        if draw_charts:
            charts.sweep_charts(summaries, folder / "sweep.png")
    write_report(folder, summaries)


def plan_folders(folder: Path) -> list[Path]:
    """The plan folders of a run folder that hold records (merged, or still in the workers' parts)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and ((p / RECORDS_FILE).is_file() or any(p.glob(_WORKER_PARTS))))


def rebuild_run(folder: str | Path, *, console: Console | None = None) -> tuple[list[PlanSummary], bool]:
    """Write a run's result files again from its records, as the run itself writes them; returns the
    summaries in the order the plans ran and whether any plan was cut short (killed or interrupted)."""
    folder = Path(folder).expanduser()
    plans = plan_folders(folder)
    if not plans:
        raise ConfigError(f"{folder}: no plan folder with {RECORDS_FILE} in it (not an assay perf run folder?)")
    draw_charts = bool(read_run_config(folder).get("charts", True))
    found = []
    for plan_dir in plans:
        records = plan_dir / RECORDS_FILE
        parts = sorted(plan_dir.glob(_WORKER_PARTS))
        if parts and not _has_rows(records):  # killed before the workers' records were merged
            merge_records(records, parts)
        meta = read_meta(records)
        try:
            settings = PlanSettings.from_meta(meta)
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{records}: its plan settings are not recorded (written by an assay older than "
                              f"`perf rebuild`, missing {exc})") from None
        if not settings.endpoints:  # written before several --url: its rows went to the run's URL
            settings = replace(settings, endpoints=_config_urls(folder))
        found.append((meta.get("started", ""), plan_dir.name, records, settings, meta.get("interrupted", "true")))
    summaries = []
    for _, _, records, settings, interrupted in sorted(found, key=lambda item: (item[0], item[1])):
        summary = finish_plan(records, settings, interrupted=interrupted != "false", draw_charts=draw_charts)
        summaries.append(summary)
        if console is not None:
            console.print(report.plan_report(summary))
    finish_run(folder, summaries, draw_charts=draw_charts, console=console)
    return summaries, any(s.interrupted for s in summaries)


def _config_urls(folder: Path) -> tuple[str, ...]:
    """The (already redacted) URLs in a run folder's config.yaml, as endpoint labels."""
    from assay.client import split_endpoint_url

    url = read_run_config(folder).get("url")
    urls = [url] if isinstance(url, str) else [u for u in url or [] if isinstance(u, str)]
    labels = []
    for text in urls:
        try:
            labels.append(split_endpoint_url(text)[0])
        except ConfigError:
            labels.append(text)
    return tuple(labels)


def _has_rows(records: Path) -> bool:
    return records.is_file() and count_requests(records) > 0


def read_run_config(folder: Path) -> dict[str, Any]:
    """The run's ``config.yaml`` (credentials redacted when written), or ``{}`` when it is missing or unreadable."""
    try:
        data = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}

"""The viewer's plotly figures, built from the readers' records (pure: no files, no UI)."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from assay.app.perf_think import PerfRun, perf_label
from assay.app.readers import EvalRun

_LAYOUT = dict(template="plotly_white", height=360, margin=dict(l=50, r=20, t=50, b=40))


def dataset_bars(runs: Sequence[EvalRun]) -> go.Figure:
    """Main score per dataset, one bar group per run."""
    figure = go.Figure()
    for run in runs:
        names = [name for name, score in run.scores.items() if score is not None]
        figure.add_bar(name=f"{run.model} ({run.run_id})", x=names, y=[run.scores[n] for n in names],
                       text=[f"{run.scores[n]:.3f}" for n in names], textposition="auto")
    figure.update_layout(title="Score per dataset (main metric)", yaxis=dict(range=[0, 1]), barmode="group",
                         showlegend=len(runs) > 1, **_LAYOUT)
    return figure


def radar(axes: dict[str, float], title: str) -> go.Figure:
    """A closed radar polygon over ``axes`` (at least three to be a polygon)."""
    names = list(axes)
    figure = go.Figure(go.Scatterpolar(r=[*axes.values(), *list(axes.values())[:1]], theta=[*names, *names[:1]],
                                       fill="toself"))
    figure.update_layout(title=title, polar=dict(radialaxis=dict(range=[0, 1])), showlegend=False, **_LAYOUT)
    return figure


# The x axis of a load curve: concurrency for closed-loop plans, the request rate for open-loop ones.
def _load_of(plan) -> float | None:  # noqa: ANN001 - a PlanSummary
    return plan.parallel if plan.parallel is not None else plan.rate


def load_curve(runs: Sequence[PerfRun], metric: str, title: str, y_title: str) -> go.Figure:
    """``metric`` of each plan against its concurrency, one line per perf run."""
    figure = go.Figure()
    for run in runs:
        points = sorted((_load_of(p), getattr(p, metric)) for p in run.plans
                        if _load_of(p) is not None and getattr(p, metric) is not None)
        figure.add_scatter(x=[x for x, _ in points], y=[y for _, y in points], mode="lines+markers",
                           name=perf_label(run.run_id))
    figure.update_layout(title=title, xaxis_title="concurrency (or request rate)", yaxis_title=y_title, **_LAYOUT)
    return figure

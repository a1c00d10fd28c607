"""One PNG with a panel per metric: x the difficulty level (or subset), one line per model."""

from __future__ import annotations

import logging
from pathlib import Path

from assay.think.metrics import ALL_GROUP, METRIC_TITLES, METRICS, GroupMetrics, group_sort_key

log = logging.getLogger("assay.think")


def plot_metrics(rows: list[GroupMetrics], models: list[str], path: Path, *, title: str, group_label: str) -> Path:
    """Draw every metric of ``rows`` (the ``all`` rows left out) and save the figure at ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    groups = sorted({r.group for r in rows if r.group != ALL_GROUP}, key=group_sort_key)
    columns = 4
    rows_of_panels = (len(METRICS) + columns - 1) // columns
    fig, axes = plt.subplots(rows_of_panels, columns, figsize=(4.2 * columns, 3.6 * rows_of_panels), squeeze=False)
    positions = list(range(len(groups)))
    for ax, metric in zip(axes.flat, METRICS):
        for model in models:
            values = []
            for group in groups:
                row = next((r for r in rows if r.model == model and r.group == group), None)
                value = None if row is None else getattr(row, metric)
                values.append(float("nan") if value is None else value)
            ax.plot(positions, values, marker="o", label=model)
        ax.set_title(METRIC_TITLES[metric], fontsize=11)
        ax.set_xticks(positions, groups, rotation=20 if max(map(len, groups), default=0) > 8 else 0, fontsize=9)
        ax.set_xlabel(group_label, fontsize=9)
        ax.grid(alpha=0.3)
        if metric in ("token_efficiency", "accuracy", "outcome_efficiency", "process_efficiency"):
            ax.set_ylim(-0.05, 1.05)
    for ax in list(axes.flat)[len(METRICS):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=max(1, len(models)), bbox_to_anchor=(0.5, 0.995))
    fig.suptitle(title, y=0.94 if rows_of_panels > 1 else 1.05)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""Static PNG charts (matplotlib): latency distributions per plan, throughput and latency across a sweep."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from assay.perf.metrics import RequestColumns
from assay.perf.summary import PlanSummary

log = logging.getLogger("assay.perf")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no charts (pip install matplotlib)")
        return None
    return plt


def latency_distributions(columns: RequestColumns, title: str, path: Path) -> Path | None:
    """Histograms of TTFT, TPOT, end-to-end latency and output tokens of the successful requests."""
    plt = _pyplot()
    if plt is None:
        return None
    ok = columns.ok.astype(bool)
    panels = [
        ("TTFT (ms)", columns.ttft_s[ok] * 1000), ("TPOT (ms)", columns.tpot_s[ok] * 1000),
        ("End-to-end latency (s)", columns.latency_s[ok]), ("Output tokens", columns.output_tokens[ok]),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (label, values) in zip(axes.flat, panels):
        finite = values[np.isfinite(values)]
        if finite.size:
            ax.hist(finite, bins=min(60, max(5, int(np.sqrt(finite.size)))), color="#4C72B0")
            for q, style in ((50, "-"), (99, "--")):
                ax.axvline(np.percentile(finite, q), color="#C44E52", linestyle=style, label=f"p{q}")
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(label)
        ax.set_ylabel("requests")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def sweep_charts(summaries: Sequence[PlanSummary], path: Path) -> Path | None:
    """Throughput and latency against the swept load (concurrency, or rate for open-loop sweeps)."""
    plt = _pyplot()
    if plt is None or len(summaries) < 2:
        return None
    by_rate = all(s.rate is not None for s in summaries) and len({s.rate for s in summaries}) > 1
    x = [s.rate if by_rate else s.parallel for s in summaries]
    xlabel = "request rate (req/s)" if by_rate else "concurrency"

    def series(metric: str, key: str) -> list[float]:
        return [np.nan if (v := s.percentiles.get(metric, {}).get(key)) is None else v for s in summaries]

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    ax.plot(x, [s.request_throughput_rps for s in summaries], "o-", label="requests/s")
    ax.set_ylabel("requests/s")
    twin = ax.twinx()
    twin.plot(x, [np.nan if s.output_throughput_tps is None else s.output_throughput_tps for s in summaries],
              "s--", color="#DD8452", label="output tokens/s")
    twin.set_ylabel("output tokens/s")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="lower right")
    ax.set_title("Throughput")
    for ax_, (metric, title, scale) in zip(axes[1:], (("ttft_s", "TTFT (ms)", 1000),
                                                      ("e2e_latency_s", "End-to-end latency (s)", 1))):
        for key, style in (("p50", "o-"), ("p90", "^--"), ("p99", "s:")):
            ax_.plot(x, np.array(series(metric, key)) * scale, style, label=key)
        ax_.set_title(title)
        ax_.legend(fontsize=8)
    for ax_ in axes:
        ax_.set_xlabel(xlabel)
        if not by_rate and len(set(x)) > 1 and max(x) / max(1, min(x)) >= 8:
            ax_.set_xscale("log", base=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def server_timeline(series: Sequence[tuple[float, str, float]], columns: RequestColumns, title: str,
                    path: Path) -> Path | None:
    """The server's requests running and waiting and its KV-cache usage over the plan, above the client's
    completed requests per second (one-second bins of the finish times)."""
    plt = _pyplot()
    if plt is None or not series:
        return None
    by_quantity: dict[str, tuple[list[float], list[float]]] = {}
    for t_s, quantity, value in series:
        times, values = by_quantity.setdefault(quantity, ([], []))
        times.append(t_s)
        values.append(value)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for quantity, label in (("running", "running"), ("waiting", "waiting")):
        if quantity in by_quantity:
            top.step(*by_quantity[quantity], where="post", label=f"server: requests {label}")
    top.set_ylabel("requests")
    if "kv_cache" in by_quantity:
        kv = top.twinx()
        kv.plot(*by_quantity["kv_cache"], color="grey", linestyle="--", label="server: KV cache usage")
        kv.set_ylabel("KV cache usage (fraction)")
        kv.set_ylim(0, 1.05)
    top.legend(loc="upper left")
    done = columns.done_s[columns.ok.astype(bool) & np.isfinite(columns.done_s)]
    if done.size:
        edges = np.arange(0.0, float(done.max()) + 1.0, 1.0)
        counts, _ = np.histogram(done, bins=edges)
        bottom.step(edges[:-1], counts, where="post", label="client: completed requests / s")
    bottom.set_xlabel("seconds from the plan's start")
    bottom.set_ylabel("requests / s")
    bottom.legend(loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

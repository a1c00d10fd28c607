"""The think table: printed with rich, and the JSON document the viewer reads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from assay.think.metrics import Agreement, GroupMetrics


class ThinkReport(BaseModel):
    """Everything ``think.json`` holds: how it was measured, and one row per model and group."""

    dataset: str
    runs: dict[str, str]
    group_by: str
    split: str
    markers: list[str]
    first_correct_by: str
    token_source: str
    rows: list[GroupMetrics]
    agreement: dict[str, Any] | None = None
    # --split llm: traces whose model reply could not be used, cut into paragraphs instead
    split_fallbacks: int | None = None
    unusable: dict[str, dict[str, int]] = {}

    def row(self, model: str, group: str) -> GroupMetrics | None:
        return next((r for r in self.rows if r.model == model and r.group == group), None)


def agreement_json(agreement: Agreement | None) -> dict[str, Any] | None:
    if agreement is None:
        return None
    return {**agreement.model_dump(), "rate": agreement.rate}


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "tokens":
        return f"{value:.1f}"
    if kind == "count":
        return f"{value:.2f}"
    return f"{value:.3f}"


COLUMNS = (
    ("Traces", "traces", "int"), ("Acc", "accuracy", "ratio"), ("T", "reasoning_tokens", "tokens"),
    ("T̂", "first_correct_tokens", "tokens"), ("T−T̂", "reflection_tokens", "tokens"),
    ("T̂/T", "token_efficiency", "ratio"), ("Thoughts", "thought_count", "count"),
    ("Reached", "reached", "int"), ("Never", "never_reached", "int"), ("ξ_O", "outcome_efficiency", "ratio"),
    ("ξ_P", "process_efficiency", "ratio"),
)


def table_rows(report: ThinkReport) -> list[list[str]]:
    """The table's cells as text (also what the tests compare)."""
    rows = []
    for row in report.rows:
        cells = [row.model, row.group]
        for _, field, kind in COLUMNS:
            value = getattr(row, field)
            cells.append(str(value) if kind == "int" else _fmt(value, kind))
        rows.append(cells)
    return rows


def print_table(report: ThinkReport, console: Any = None) -> None:
    """The model × group × metric table, with how it was measured underneath."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"Thinking efficiency on {report.dataset}")
    for header in ("Model", report.group_by.capitalize(), *(c[0] for c in COLUMNS)):
        table.add_column(header, justify="left" if header in ("Model",) else "right")
    previous = None
    for cells in table_rows(report):
        if previous is not None and cells[0] != previous:
            table.add_section()
        previous = cells[0]
        table.add_row(*cells)
    console.print(table)
    notes = [f"tokens: {report.token_source}", f"first correct step: {report.first_correct_by}",
             f"steps: {report.split}" + (f" ({report.split_fallbacks} traces fell back to paragraphs)"
                                         if report.split_fallbacks else ""), "T̂, T−T̂, T̂/T: over traces that reach the answer (Never: the rest)"]
    if report.agreement is not None and report.agreement["rate"] is not None:
        a = report.agreement
        notes.append(f"rule vs judge agreement: {a['agreed']}/{a['compared']} = {a['rate']:.1%}"
                     + (f" ({a['judge_unreadable']} judge answers unreadable)" if a["judge_unreadable"] else ""))
    for model, counts in report.unusable.items():
        skipped = ", ".join(f"{n} {why}" for why, n in counts.items() if n)
        if skipped:
            notes.append(f"{model}: not analysed: {skipped}")
    console.print("\n".join(notes), style="dim")

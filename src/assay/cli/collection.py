"""``assay collection``: build a weighted mix of benchmarks from a schema, inspect a schema, show a run's report."""

from __future__ import annotations

from typing import Any

import click

from assay.cli.options import add_options, build_model, cli_values, model_options


def _build_command() -> click.Command:
    from assay.collections.build import BuildConfig

    def run(schema_path: str, **params: Any) -> None:
        from rich.console import Console
        from rich.table import Table

        from assay.collections.build import build_collection

        config = build_model(BuildConfig, {"schema_path": schema_path, **cli_values(BuildConfig, params)})
        result = build_collection(config)  # type: ignore[arg-type]
        table = Table("dataset", "weight", "available", "drawn", title=f"{result.rows} rows → {result.path}")
        for plan in result.plan:
            table.add_row(plan.key, f"{plan.weight:.4f}", str(plan.available),
                          f"{plan.drawn} (all)" if plan.capped else str(plan.drawn))
        Console(stderr=True).print(table)

    command = click.Command(
        "build", callback=run,
        help="Sample a collection from SCHEMA_PATH (YAML/JSON) into one JSONL file; evaluate it with "
             "`assay eval --datasets data_collection --dataset-args '{\"data_collection\": {\"dataset_id\": FILE}}'`.",
        params=[click.Argument(["schema_path"])],
    )
    return add_options(model_options(BuildConfig, exclude=["schema_path"], aliases={"output": ["-o"]}))(command)


def _show_command() -> click.Command:
    def run(schema_path: str) -> None:
        from rich.console import Console
        from rich.table import Table

        from assay.collections.schema import CollectionSchema

        schema = CollectionSchema.from_file(schema_path)
        table = Table("dataset", "weight", "task_type", "tags", "args", title=schema.name)
        for leaf in schema.flatten():
            table.add_row(leaf.key, f"{leaf.weight:.4f}", leaf.info.task_type or "(benchmark's)",
                          ", ".join(leaf.info.tags) or "(benchmark's)", str(leaf.info.args or ""))
        Console().print(table)

    return click.Command("show", callback=run, params=[click.Argument(["schema_path"])],
                         help="Print a schema's datasets with their normalised weights (they sum to 1).")


def _report_command() -> click.Command:
    def run(run_dir: str) -> None:
        from assay.collections.report import load_collection_report, print_collection_report
        from assay.errors import ConfigError

        try:
            report = load_collection_report(run_dir)
        except FileNotFoundError:
            raise ConfigError(f"{run_dir}: no reports/collection.json (not a finished data_collection run)") from None
        print_collection_report(report)

    return click.Command("report", callback=run, params=[click.Argument(["run_dir"])],
                         help="Print the collection tables (by dataset, task type, tag, schema path) of a run.")


def collection_group() -> click.Group:
    group = click.Group("collection", help="Weighted, tagged evaluation sets: build one from a schema, evaluate "
                                            "it as the data_collection benchmark.")
    for command in (_build_command(), _show_command(), _report_command()):
        group.add_command(command)
    return group

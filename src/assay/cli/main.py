"""The ``assay`` command line: one group, subcommands built from the config models."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
import typer

from assay import __version__
from assay.cli.config_file import load_config_file
from assay.cli.options import add_options, build_model, cli_values, expand_list_args, model_options
from assay.errors import AssayError

app = typer.Typer(
    name="assay",
    help="How good and how fast is your LLM: load tests, benchmarks, thinking-efficiency analysis.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

_NOT_BUILT = {
    "perf": "load-test an OpenAI-compatible endpoint (TTFT, TPOT, ITL, throughput, goodput)",
    "eval": "run capability benchmarks against an API model or a local checkpoint",
    "collection": "build and evaluate weighted mixes of benchmarks",
    "think": "thinking-efficiency analysis of reasoning traces",
    "app": "web viewer for evaluation and perf results",
}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"assay {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    log_level: str = typer.Option("warning", "--log-level", help="debug, info, warning or error."),
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """How good and how fast is your LLM."""
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _placeholder(name: str, summary: str) -> None:
    def command(ctx: typer.Context) -> None:
        raise AssayError(f"`assay {name}` is not built yet in assay {__version__} ({summary})")

    command.__doc__ = f"[not built yet] {summary[0].upper()}{summary[1:]}."
    app.command(name, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(command)


for _name, _summary in _NOT_BUILT.items():
    _placeholder(_name, _summary)


def _sim_command() -> click.Command:
    from assay.sim import SimConfig, serve

    def run(config: str | None, **params: Any) -> None:
        values = load_config_file(config) if config else {}
        values.update(cli_values(SimConfig, params))
        sim_config = build_model(SimConfig, values)
        serve(sim_config)  # type: ignore[arg-type]

    command = click.Command(
        "sim", callback=run,
        help="Start the simulated OpenAI-compatible server (latency model, reasoning, replay, faults).",
        params=[click.Option(["--config"], default=None, help="YAML/JSON file with these options.")],
    )
    return add_options(model_options(SimConfig))(command)


def build_cli() -> click.Group:
    """The whole command tree."""
    group = typer.main.get_group(app)
    group.add_command(_sim_command())
    return group


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and exit code 2 for any user error, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    cli = build_cli()
    try:
        cli.main(args=expand_list_args(cli, args), prog_name="assay", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except AssayError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()

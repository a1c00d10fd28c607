"""The ``assay`` command line: one click group, subcommands built from the config models.

Plain click rather than typer: our options are generated from pydantic models, which click takes
directly, and typer 0.29 vendors its own copy of click, whose exceptions and classes don't mix with
click's.
"""

from __future__ import annotations

import logging
import signal
import sys
from contextlib import contextmanager
from typing import Any, Iterator

import click

from assay import __version__
from assay.utils.cmdline import scrub_own_cmdline
from assay.utils.config_file import load_config_file
from assay.cli.collection import collection_group
from assay.cli.options import add_options, build_model, cli_values, expand_list_args, model_options
from assay.errors import AssayError

_NOT_BUILT: dict[str, str] = {}


def _set_log_level(ctx: click.Context, param: click.Parameter, value: str) -> str:
    level = getattr(logging, value.upper(), None)
    if not isinstance(level, int):
        raise click.BadParameter(f"unknown log level {value!r}")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return value


def _root_group() -> click.Group:
    group = click.Group(
        "assay", no_args_is_help=True,
        help="How good and how fast is your LLM: load tests, benchmarks, thinking-efficiency analysis.",
        params=[
            click.Option(["--log-level"], default="warning", show_default=True, callback=_set_log_level,
                         expose_value=False, is_eager=True, help="debug, info, warning or error."),
        ],
    )
    return click.version_option(__version__, "--version", prog_name="assay", message="%(prog)s %(version)s")(group)


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (``kill``, ``docker stop``, a scheduler's time limit) is handled as Ctrl-C: it is turned into
    SIGINT, so whatever handles Ctrl-C at that moment (perf's clean stop, the eval runner's interrupted
    manifest, ``KeyboardInterrupt``) handles it, and the command exits with Ctrl-C's code, 130."""
    try:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: signal.raise_signal(signal.SIGINT))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _placeholder(name: str, summary: str) -> click.Command:
    def run(args: tuple[str, ...]) -> None:
        raise AssayError(f"`assay {name}` is not built yet in assay {__version__} ({summary})")

    return click.Command(
        name, callback=run, help=f"[not built yet] {summary[0].upper()}{summary[1:]}.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
    )


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


def _perf_command() -> click.Group:
    from rich.console import Console

    from assay.perf import PerfConfig, run_perf

    def console() -> Console:
        # Piped or captured output gets room for the wide tables instead of 80 columns of "…".
        return Console() if sys.stdout.isatty() else Console(width=200)

    def run(config: str | None, **params: Any) -> None:
        if click.get_current_context().invoked_subcommand is not None:
            return  # `assay perf rebuild ...`
        values = load_config_file(config) if config else {}
        values.update(cli_values(PerfConfig, params))
        with _sigterm_as_ctrl_c():
            result = run_perf(build_model(PerfConfig, values), console=console())  # type: ignore[arg-type]
        if result.interrupted:
            click.echo(f"interrupted: summaries of what finished are in {result.run_dir}", err=True)
            sys.exit(130)
        if result.failures.all_failed:
            raise result.failures.all_failed_error(str(result.run_dir))

    def rebuild(run_dir: str) -> None:
        from assay.perf.finish import rebuild_run

        summaries, cut_short = rebuild_run(run_dir, console=console())
        state = "some plans were cut short (marked interrupted)" if cut_short else "every plan had finished"
        click.echo(f"rebuilt {len(summaries)} plan summaries in {run_dir} ({state})", err=True)

    def compare(run_a: str, run_b: str, as_json: bool) -> None:
        from assay.perf.compare import compare_runs, comparison_tables

        result = compare_runs(run_a, run_b)
        if as_json:
            import orjson

            click.echo(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2).decode())
            return
        out = console()
        for part in comparison_tables(result):
            out.print(part)

    group = click.Group(
        "perf", callback=run, invoke_without_command=True,
        subcommand_metavar="[rebuild RUN_DIR | compare RUN_A RUN_B]",
        help="Load-test an OpenAI-compatible endpoint (TTFT, TPOT, ITL, throughput, goodput); "
             "lists of --parallel/--number/--rate make a sweep. Ctrl-C or SIGTERM stops sending, writes the "
             "summaries of what finished and exits 130; `assay perf rebuild RUN_DIR` writes them for a run "
             "that was killed (-9).",
        params=[click.Option(["--config"], default=None, help="YAML/JSON file with these options.")],
    )
    group.add_command(click.Command(
        "rebuild", callback=rebuild,
        help="Write a perf run's summaries again from its records (summary.json, percentiles.json, sweep.json and "
             "charts, as a finished run writes them): for a run killed with -9 or lost with its machine. Plans "
             "the kill cut short are marked interrupted.",
        params=[click.Argument(["run_dir"])],
    ))
    group.add_command(click.Command(
        "compare", callback=compare,
        help="Put two perf runs side by side: plans paired by name (else by load), and for each metric "
             "(throughput, goodput, TTFT/TPOT/ITL/latency mean, p50, p90, p99) A, B, B - A and whether the "
             "difference exceeds the noise: Welch's t-test on the per-repeat values when both ran with "
             "--repeats, else a bootstrap over the requests in records.sqlite.",
        params=[click.Argument(["run_a"]), click.Argument(["run_b"]),
                click.Option(["--json", "as_json"], is_flag=True, help="Print the comparison as JSON.")],
    ))
    return add_options(model_options(PerfConfig, aliases={"number": ["-n"]}))(group)


def _eval_command() -> click.Command:
    from assay.eval.config import TaskConfig

    def run(config: str | None, **params: Any) -> None:
        from assay.eval.runner import run_task

        values = load_config_file(config) if config else {}
        values.update(cli_values(TaskConfig, params))
        with _sigterm_as_ctrl_c():
            result = run_task(build_model(TaskConfig, values))  # type: ignore[arg-type]
        if result.failures.all_failed:
            raise result.failures.all_failed_error(str(result.run_dir))

    command = click.Command(
        "eval", callback=run,
        help="Run capability benchmarks (gsm8k, math_500, mmlu, ...) against an API model, a local checkpoint "
             "or the simulator. Flags are TaskConfig's fields; --config reads them from YAML. Ctrl-C or SIGTERM "
             "keeps the finished samples, marks the run interrupted and exits 130; --use-cache resumes it.",
        params=[click.Option(["--config"], default=None, help="YAML/JSON file with these options.")],
    )
    return add_options(model_options(TaskConfig, aliases={"use_cache": ["--resume"]}))(command)


def _report_group() -> click.Group:
    def compare(run_a: str, run_b: str) -> None:
        from assay.eval.compare import compare_runs, print_comparison

        print_comparison(compare_runs(run_a, run_b))

    group = click.Group("report", help="Read evaluation results.")
    group.add_command(click.Command(
        "compare", callback=compare,
        help="Put two runs side by side (e.g. thinking vs non-thinking): per benchmark, each run's score and "
             "the paired difference with its 95% interval and p-value, over the samples both answered.",
        params=[click.Argument(["run_a"]), click.Argument(["run_b"])],
    ))
    return group


def _data_group() -> click.Group:
    from assay.eval.config import TaskConfig

    fields = ("datasets", "dataset_args", "dataset_hub", "dataset_dir")

    def run(**params: Any) -> None:
        from assay.eval.prefetch import prefetch

        task = build_model(TaskConfig, {"eval_type": "sim", **cli_values(TaskConfig, params)})
        if not task.datasets:  # type: ignore[attr-defined]
            raise AssayError("nothing to prefetch: pass --datasets (e.g. --datasets gsm8k math_500)")
        for done in prefetch(task.datasets, dataset_args=task.dataset_args,  # type: ignore[attr-defined]
                             dataset_hub=task.dataset_hub, dataset_dir=task.dataset_dir):  # type: ignore[attr-defined]
            where = f"in {done.path}" if done.path else "(generated by assay: nothing to download)"
            splits = f" (splits {', '.join(done.splits)})" if len(done.splits) > 1 else ""
            click.echo(f"{done.benchmark}: {done.samples} samples{splits} ready offline {where}")

    prefetch_command = click.Command(
        "prefetch", callback=run,
        help="Download and cache what a run of these benchmarks needs (every subset and few-shot split), so "
             "the run itself touches no network. Use the same --dataset-dir/--dataset-hub/--dataset-args.")
    prefetch_command = add_options(model_options(
        TaskConfig, exclude=[f for f in TaskConfig.model_fields if f not in fields]))(prefetch_command)
    def layout(**params: Any) -> None:
        from assay.data.layout import dataset_dir_note, render_layout, resolve_dataset_dir
        from assay.eval.prefetch import data_layouts

        values = cli_values(TaskConfig, params)
        folder, origin = resolve_dataset_dir(values.get("dataset_dir"))
        chosen = list(values.get("datasets") or [])
        click.echo(dataset_dir_note(folder, origin))
        for item in data_layouts(chosen):
            click.echo("\n" + render_layout(item, folder, all_subsets=bool(chosen)))

    layout_command = click.Command(
        "layout", callback=layout,
        help="Show where each benchmark's data is looked for and the local layouts it accepts: hub ids in "
             "fallback order, splits, subsets (file, folder or column), folder names under --dataset-dir, an "
             "example tree.")
    layout_command = add_options(model_options(
        TaskConfig, exclude=[f for f in TaskConfig.model_fields if f not in ("datasets", "dataset_dir")]))(
        layout_command)
    group = click.Group("data", help="Datasets: download and cache them for offline runs (prefetch), and see "
                                     "the local layouts each benchmark accepts (layout).")
    group.add_command(prefetch_command)
    group.add_command(layout_command)
    return group


def _think_command() -> click.Command:
    from assay.think.config import ThinkConfig

    def run(config: str | None, **params: Any) -> None:
        from rich.console import Console

        from assay.think import run_think

        values = load_config_file(config) if config else {}
        values.update(cli_values(ThinkConfig, params))
        console = Console() if sys.stdout.isatty() else Console(width=200)
        result = run_think(build_model(ThinkConfig, values), console=console)  # type: ignore[arg-type]
        click.echo(f"think outputs: {result.output_dir}", err=True)

    command = click.Command(
        "think", callback=run,
        help="Thinking efficiency of reasoning models from finished eval runs: reasoning tokens, tokens to the "
             "first correct step, reflection tokens, thought count, accuracy, outcome and process efficiency, "
             "by difficulty level (table, think.json, think.png).",
        params=[click.Option(["--config"], default=None, help="YAML/JSON file with these options.")],
    )
    return add_options(model_options(ThinkConfig))(command)


def _app_command() -> click.Command:
    def run(outputs: str, host: str, port: int, ui: str, launch: bool) -> None:
        try:
            if ui == "web":
                from assay.app.web import new_token, serve
            else:
                from assay.app.ui import serve  # type: ignore[assignment]
        except ImportError as exc:
            raise AssayError(f"`assay app` needs the app extra (pip install 'assay[app]'): {exc}") from None
        if ui != "web":
            if launch:
                raise AssayError("--launch needs the workbench (--ui web)")
            click.echo(f"assay app: reading {outputs} on http://{host}:{port} (Ctrl-C to stop)", err=True)
            serve(outputs, host=host, port=port)
            return
        token = new_token()
        loopback = host in ("127.0.0.1", "localhost")
        url = f"http://{host}:{port}/" + ("" if loopback else f"?token={token}")
        doing = "reading and launching runs in" if launch else "reading"
        click.echo(f"assay app: {doing} {outputs} on {url} (Ctrl-C to stop)\nassay app: token {token}", err=True)
        serve(outputs, host=host, port=port, launch=launch, token=token)  # type: ignore[call-arg]

    return click.Command(
        "app", callback=run,
        help="Web viewer (read only unless --launch; uploads are refused) for the runs under an outputs folder: the "
             "workbench (runs, samples, compare, dashboard, perf, think, export) or, with --ui gradio, the older viewer.",
        params=[
            click.Option(["--outputs"], default="./outputs", show_default=True, help="The folder to read."),
            click.Option(["--host"], default="127.0.0.1", show_default=True,
                         help="Address to listen on (0.0.0.0 exposes the results to the network)."),
            click.Option(["--port"], type=click.IntRange(1, 65535), default=7860, show_default=True,
                         help="Port to listen on."),
            click.Option(["--ui"], type=click.Choice(["web", "gradio"]), default="web", show_default=True,
                         help="web: the workbench (runs, samples, compare, perf; fast on big runs); gradio: the "
                              "older viewer with compare, perf and think tabs."),
            click.Option(["--launch"], is_flag=True, default=False,
                         help="Workbench: also start eval and perf runs from the browser (a form per config, a "
                              "jobs page with logs and Cancel); off by default, as it runs commands as you."),
        ],
    )


def _benchmarks_command() -> click.Command:
    def run(names: tuple[str, ...], as_json: bool, markdown: bool, task_type: str | None, tag: str | None) -> None:
        import json

        from assay.eval.catalogue import catalogue, console_lines, detail_lines, markdown_page

        infos = catalogue(list(names) or None, task_type=task_type, tag=tag)
        if not infos:
            raise AssayError("no benchmark matches" + (f" task type {task_type!r}" if task_type else "")
                             + (f" tag {tag!r}" if tag else ""))
        if as_json:
            click.echo(json.dumps([info.as_dict() for info in infos], indent=1, ensure_ascii=False, default=str))
        elif markdown:
            click.echo(markdown_page(infos), nl=False)
        elif names:
            click.echo("\n\n".join("\n".join(detail_lines(info)) for info in infos))
        else:
            click.echo("\n".join(console_lines(infos)))

    return click.Command(
        "benchmarks", callback=run,
        help="List the benchmarks: name, task type, main metric, version, licence, tags; with NAMEs, each one in "
             "full (data source, metrics, paper, its extra_params with types and defaults).",
        params=[click.Argument(["names"], nargs=-1),
                click.Option(["--json", "as_json"], is_flag=True, help="Everything, as JSON."),
                click.Option(["--markdown"], is_flag=True, help="The docs page (docs/benchmarks.md)."),
                click.Option(["--task-type"], default=None, help="Only this task type (math, mcq, code, ...)."),
                click.Option(["--tag"], default=None, help="Only benchmarks with this tag (en, zh, math, ...).")],
    )


def build_cli() -> click.Group:
    """The whole command tree."""
    group = _root_group()
    group.add_command(_sim_command())
    group.add_command(_eval_command())
    group.add_command(_report_group())
    group.add_command(collection_group())
    group.add_command(_data_group())
    group.add_command(_benchmarks_command())
    group.add_command(_perf_command())
    group.add_command(_think_command())
    group.add_command(_app_command())
    for name, summary in _NOT_BUILT.items():
        group.add_command(_placeholder(name, summary))
    return group


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and exit code 2 for any user error, never a traceback."""
    if argv is None:
        scrub_own_cmdline()  # the `assay` script: --api-key and keys in URLs out of /proc/<pid>/cmdline
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

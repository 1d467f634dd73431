"""The `aiplane` command line: wires arguments to one module per command (aiplane.commands.*)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any

import click

from aiplane import __version__
from aiplane.completion import environment_names
from aiplane.errors import InputError, SystemFailure
from aiplane.extras import missing_extra_message
from aiplane.pydantic_plugins import disable_pydantic_plugins
from aiplane.quick_exit import run_and_leave

# Before anything builds a pydantic model: no plugin search, no plugin loader (aiplane.pydantic_plugins).
disable_pydantic_plugins()

FORMATS_VALIDATE = click.Choice(["text", "json"])
_YOUNG_COLLECTION_EVERY = 100_000  # allocations (Python's default: 700)


def collect_rarely() -> None:
    """A command is a short process that builds its whole input and keeps it: Python's default collector
    (a young collection every 700 allocations, full ones as the heap grows) spent a quarter of a 5,000-item
    `check` re-scanning objects that all stay alive (benchmarks/scale.py). Collection stays on (the ethics
    monitor runs for days), only rarer. Benchmarks that time a command's parts in process call this too."""
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, 20, 20)


def _run(command: Callable[..., int], **kwargs: Any) -> None:
    """Run a command module; input errors become one line per problem on stderr and exit status 2."""
    collect_rarely()
    try:
        code = command(**kwargs)
    except InputError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    except SystemFailure as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    # The machine or an unreadable input failed somewhere no layer located it: still one line, exit 2.
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        click.echo(f"{where}{err.strerror or err}", err=True)
        sys.exit(2)
    except UnicodeDecodeError as err:
        click.echo(f"an input file is not UTF-8 text: {err.reason} at byte {err.start}", err=True)
        sys.exit(2)
    except RecursionError:
        click.echo("an input is nested too deeply to read", err=True)
        sys.exit(2)
    sys.exit(code)


class _ExtrasAwareGroup(click.Group):
    """A command whose optional extra is not installed says which one to install (exit 2), instead of a
    traceback: `pip install aiplane` has only the base (aiplane.extras)."""

    group_class = type  # `catalog` and `ethics` are groups of this kind too

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            # Shared by every nested context: the deepest group leaves the full path, e.g. "ethics gate".
            ctx.meta["aiplane.command"] = " ".join([*ctx.command_path.split()[1:], command.name or ""])
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as err:
            message = missing_extra_message(err.name or "", ctx.meta.get("aiplane.command", ""))
            if message is None or ctx.parent is not None:
                raise
            click.echo(message, err=True)
            sys.exit(2)


@click.group(
    cls=_ExtrasAwareGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="aiplane")
def main() -> None:
    """aiplane: platform APIs for AI infrastructure on Kubernetes and AWS, through GitOps.

    Synthesizes Crossplane v2 XRDs and Pipeline Compositions, each environment's composite
    resources and the Flux Kustomizations that apply them into manifests/, and refuses what
    breaks the FinOps, spot and responsible-AI rules before anything reaches Git.

    Exit 0 success, 1 the command's finding (each command's --help says which), 2 bad input or usage.
    Colour only on a terminal (NO_COLOR turns it off); JSON output is documented in docs/output.md.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--crds",
    "crd_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=True),
    help="Extra CRD file or folder (repeatable); adds to or overrides the shipped CRDs.",
)
@click.option("--strict", is_flag=True, help='Treat "no schema", "skipped" and "not evaluated" as errors.')
@click.option(
    "--format",
    "fmt",
    type=FORMATS_VALIDATE,
    default="text",
    show_default=True,
    help="Output format; json is a stable, documented schema.",
)
def validate(paths: tuple[str, ...], crd_dirs: tuple[str, ...], strict: bool, fmt: str) -> None:
    """Validate manifests against the real upstream CRDs (schema, CEL rules, Composition pipelines,
    patch-and-transform field paths, XRD v2 rules).

    PATHS are YAML files or folders (multi-document; default: the project's manifests/).
    Exit 0 valid, 1 invalid, 2 usage or unreadable input.
    """
    from aiplane.commands import validate as command

    _run(command.run, paths=list(paths), crd_dirs=list(crd_dirs), strict=strict, fmt=fmt)


@main.command()
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME",
    help="Only synthesize this environment (repeatable; default: all).",
    shell_complete=environment_names,
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 and name the files when manifests/ is out of date."
)
def synth(envs: tuple[str, ...], check: bool) -> None:
    """Synthesize manifests/: platform APIs (XRDs, Compositions, packages), each environment's
    composite resources and the Flux Kustomizations that apply them in order.

    Output is deterministic and written atomically: built and validated in a temporary folder,
    then swapped in; on any error manifests/ is left exactly as it was. With --check nothing is written.

    Exit 0 written (or, with --check, up to date), 1 --check found manifests/ out of date or the synthesized
    objects are invalid, 2 bad input (the file, line and field are named).
    """
    from aiplane.commands import synth as command

    _run(command.run, envs=list(envs), check=check)


@main.group()
def schema() -> None:
    """JSON Schemas of aiplane's input files, for editors and CI.

    Exit 0 or 2 as each subcommand's --help says; 2 usage errors.
    """


@schema.command("environment")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
def schema_environment(output: str | None) -> None:
    """The JSON Schema (draft 2020-12) of environments/<env>.yaml, from the same models the loader
    validates with (descriptions, enums, defaults). `aiplane synth` keeps schemas/environment.schema.json
    current. Exit 0, 2 bad project input.
    """
    from aiplane.commands import schema as command

    _run(command.run, output=output)


@main.group()
def new() -> None:
    """Scaffold new parts of the platform.

    Exit 0 or 2 as each subcommand's --help says; 2 usage errors.
    """


@new.command("api")
@click.argument("kind")
@click.option("--group", help="API group (default and only choice: [tool.aiplane] group).")
@click.option(
    "--from-crd",
    "crd_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A provider-upjet-aws v2 managed resource CRD to compose (repeatable; at least one).",
)
@click.option("--env", metavar="NAME", help="Append the example item to environments/NAME.yaml (default: print it).")
def new_api(kind: str, group: str | None, crd_files: tuple[str, ...], env: str | None) -> None:
    """Scaffold platform API KIND: xrds/<kind>.py, compositions/<kind>_<service>.py (one composed managed
    resource per CRD, its required fields patched from the spec), tests/test_<kind>_api.py and an example
    environment item. Never overwrites a file. Exit 0, 2 bad kind, existing API or file, or a CRD that is
    not a provider managed resource CRD.
    """
    from aiplane.commands import new_api as command

    _run(command.run, kind=kind, group=group, crd_files=list(crd_files), env=env)


@main.command()
def docs() -> None:
    """Write the platform API reference, docs/apis/<kind>.md (fields, defaults, constraints, printer
    columns, what each Composition composes, an example XR), from the XRDs and Compositions.
    `aiplane synth` writes the same files. Exit 0, 2 bad input.
    """
    from aiplane.commands import docs as command

    _run(command.run)


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--apis",
    type=click.Choice(["copy", "dependency"]),
    default="copy",
    show_default=True,
    help="copy: the shipped platform APIs into xrds/ and compositions/, yours to change; dependency: use "
    "them from the installed aiplane-apis package.",
)
@click.option("--force", is_flag=True, help="Write into a folder that is not empty (files of the same name are replaced).")
@click.option("--no-synth", "no_synth", is_flag=True, help="Do not run `aiplane synth` in the new repository.")
def init(directory: str, apis: str, force: bool, no_synth: bool) -> None:
    """Create a working platform repository in DIRECTORY (default: here): pyproject.toml with
    [tool.aiplane], an example environment, the Makefile, .pre-commit-config.yaml, a CI workflow, the Pulumi
    stacks and CrossGuard pack, and the platform APIs; then `aiplane synth` writes manifests/ there (the
    platform, the environment and the Flux cluster layout). No git repository is needed.

    Exit 0 created, 1 the new repository's synthesis failed, 2 DIRECTORY is not empty (without --force),
    --apis dependency without the aiplane-apis package, or a write failed.
    """
    from aiplane.commands import init as command

    _run(command.run, directory=directory, apis=apis, force=force, synth=not no_synth)


@main.command()
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Only this environment (repeatable).",
              shell_complete=environment_names)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, sarif for code scanning, markdown for PRs.",
)
@click.option(
    "--manifests",
    "from_manifests",
    is_flag=True,
    help="Check the committed manifests/ instead of synthesizing in memory.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Policy config (default: policypacks/aiplane-guardrails/policy-config.json).",
)
def check(envs: tuple[str, ...], fmt: str, from_manifests: bool, config_path: str | None) -> None:
    """Run validation and every guardrail rule (FinOps tags, spot, cost, quotas, ethics monitor,
    bucket security, AMI, IAM), honouring the environment files' waivers. Findings are placed at the
    environment file line (or compositions/ module) a person edits.

    Exit 0 clean (advisories and waived findings allowed), 1 a mandatory violation, 2 bad input (with
    --format json, sarif or markdown the input errors are printed in that format too).
    """
    from aiplane.commands import check as command

    _run(command.run, envs=list(envs), fmt=fmt, from_manifests=from_manifests, config_path=config_path)


@main.command()
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Only this environment (repeatable).",
              shell_complete=environment_names)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, markdown for a PR comment (one comment, found by its hidden marker).",
)
@click.option(
    "--diff",
    "diff",
    metavar="REF",
    help="Compare with the environments at this git revision (e.g. origin/main) for review.",
)
@click.option(
    "--show-all", is_flag=True, help="With --diff, also list unchanged environments and workloads."
)
def cost(envs: tuple[str, ...], fmt: str, diff: str | None, show_all: bool) -> None:
    """Worst-case and expected $/h and $/month (× 730 h, Infracost's convention) by environment, cost-center and
    workload, from the price catalog at each environment's region (the same numbers the max-cost-per-hour
    guardrail uses). Worst case: max scale at on-demand prices; expected: spot capacity at the environment's
    expected discount. Workloads over their own maxCostPerHour and environments over budget are flagged. A
    figure resting on an uncertain price is marked "(uncertain price)" (JSON: uncertainPrices).

    With --diff REF: total before → after, then each environment and workload added, removed or changed (only
    what changed unless --show-all). Exit 0, 2 bad input or unknown REF.
    """
    from aiplane.commands import cost as command

    _run(command.run, envs=list(envs), fmt=fmt, diff=diff, show_all=show_all)


@main.command()
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Only this environment (repeatable).",
              shell_complete=environment_names)
@click.option(
    "--against",
    metavar="REF",
    help="The git revision whose committed manifests/ are live (default: origin/main, else HEAD).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def plan(envs: tuple[str, ...], against: str | None, fmt: str) -> None:
    """What a change will do to live resources: every XR rendered on both sides (the committed manifests/ at
    REF, and a synthesis now), each composed resource classified create, update, replace
    (create-before-destroy), delete or refused (an in-place ForceNew change the provider would refuse), with
    each XR's worst-case $/h before and after.

    Exit 0 nothing refused; 1 a change would be refused or a mandatory guardrail fails; 2 bad input.
    """
    from aiplane.commands import plan as command

    _run(command.run, envs=list(envs), against=against, fmt=fmt)


@main.command()
@click.option("--env", "env", required=True, metavar="NAME", help="The environment to audit.",
              shell_complete=environment_names)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True, max=1e9),
    metavar="SECONDS",
    help="Give up after this many seconds overall (default: [tool.aiplane] audit-deadline, 120).",
)
def audit(env: str, fmt: str, deadline: float | None) -> None:
    """Compare the live AWS account (read-only, boto3) with what Git declares for an environment.

    Honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL. Exit 0 clean, 1 findings, 2 credentials,
    region or input errors, or the deadline passed.
    """
    from aiplane.commands import audit as command

    _run(command.run, env=env, fmt=fmt, deadline=deadline)


@main.command()
@click.option("--env", "env", required=True, metavar="NAME", help="The environment to rightsize.",
              shell_complete=environment_names)
@click.option("--days", type=click.IntRange(1, 455), default=14, show_default=True,
              help="History window in days, ending at the last whole hour (CloudWatch keeps hourly data 455 days).")
@click.option("--source", default="cloudwatch", show_default=True, metavar="cloudwatch|prometheus|FILE",
              help="Where the history comes from: CloudWatch, Prometheus, or a CSV/Parquet export file.")
@click.option("--prometheus-url", metavar="URL", help="Prometheus base URL (for --source prometheus).")
@click.option("--prometheus-label", default="nodegroup", show_default=True, metavar="LABEL",
              help="The label DCGM series carry the EKS node group name in (relabeled eks.amazonaws.com/nodegroup).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--write", is_flag=True, help="Edit environments/<env>.yaml in place (comments and layout kept).")
@click.option("--backtest", is_flag=True,
              help="Replay each autoscaled endpoint's last week: forecast error, cost and SLO misses of static, "
                   "reactive and forecast + reactive sizing (needs 3 weeks of invocations: use --days 21 or more).")
@click.option("--plot", metavar="FILE", help="With --backtest: write a PNG of the held-out week (one endpoint).")
def rightsize(env: str, days: int, source: str, prometheus_url: str | None, prometheus_label: str, fmt: str,
              write: bool, backtest: bool, plot: str | None) -> None:
    """Recommend node pool scaling.maxSize (minSize is kept), endpoint instanceCount, a cheaper instance type of the same
    accelerator and spot where the environment allows it, from real utilization history (hourly maxima).

    Each recommendation shows its evidence (p50/p95/max, samples, window), its $/h and $/month change, and
    the guardrails re-run on the result. Safety rails: never below the observed peak plus 20 % headroom; no
    recommendation on less than 7 days / 150 hourly samples (it says why); production-critical tiers keep
    their on-demand base. CloudWatch honours AWS_PROFILE and AWS_ENDPOINT_URL and refuses credentials of
    another account than the environment's. docs/rightsizing.md has the sources and the export format.

    Endpoints with `autoscaling` get `autoscaling.schedule` from a weekly forecast of their invocations
    (scheduled minimums ahead of forecast peaks); `--backtest [--plot FILE]` measures that against static and
    reactive sizing on the held-out last week.

    Exit 0 with or without recommendations; 1 --write refused because a guardrail would fail (nothing
    written); 2 bad input, credentials, wrong account or an unreachable source.
    """
    from aiplane.commands import rightsize as command

    if plot and not backtest:
        raise click.UsageError("--plot goes with --backtest")
    if backtest and write:
        raise click.UsageError("--backtest reports only; run --write on its own")
    _run(command.run, env=env, days=days, source=source, prometheus_url=prometheus_url,
         prometheus_label=prometheus_label, fmt=fmt, write=write, backtest=backtest, plot=plot)


@main.group()
def catalog() -> None:
    """The price catalog: prices and availability per region, where they come from, and how to refresh them.

    Costs always use the environment's region; a region without prices, or an instance type the region does not
    offer, is refused at its line (see `aiplane catalog status` for what is catalogued).

    Exit 0, 1 or 2 as each subcommand's --help says; 2 usage errors.
    """


@catalog.command("refresh")
@click.option("--region", required=True, metavar="REGION", help="The AWS region to fetch prices for, e.g. eu-west-1.")
@click.option(
    "--service",
    "services",
    multiple=True,
    type=click.Choice(["ec2", "sagemaker"]),
    help="Only this service (repeatable; default: both).",
)
@click.option(
    "--window-days",
    type=click.FloatRange(min=0, min_open=True, max=90),
    default=7.0,
    show_default=True,
    help="Spot price history window, in days before now, summarized per AZ as low/median/high.",
)
@click.option(
    "--output", metavar="DIR", help="Prices folder to write into (default: [tool.aiplane] prices, `prices/`)."
)
def catalog_refresh(region: str, services: tuple[str, ...], window_days: float, output: str | None) -> None:
    """Fetch one region's on-demand prices (AWS Price List API: Linux, shared tenancy, capacity Used, no
    pre-installed software; SageMaker real-time hosting), spot price history and instance type offerings, and
    write them dated and sourced to <prices>/<region>/<service>.yaml, which replace the shipped prices there.

    Read-only boto3 calls; honours AWS_PROFILE and the usual AWS variables. Exit 0 written, 2 unknown region,
    credentials, endpoint or input errors (nothing written).
    """
    from aiplane.commands import catalog_refresh as command

    _run(command.run, region=region, services=list(services), window_days=window_days, output=output)


@catalog.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def catalog_status(fmt: str) -> None:
    """List the price files in force per region and service (shipped or the project's own), their sources and
    retrieval dates, and every entry still marked uncertain; warn about files older than
    [tool.aiplane] price-max-age-days (default 90).

    Exit 0 all fresh, 1 a price file is older than the configured age, 2 bad input.
    """
    from aiplane.commands import catalog_status as command

    _run(command.run, fmt=fmt)


@main.group()
def ethics() -> None:
    """Fairness of models: the live monitor's evaluation and the pre-deployment gate (docs/ethics.md).

    Exit 0, 1 or 2 as each subcommand's --help says; 2 usage errors.
    """


@ethics.command()
@click.option(
    "--window-end",
    "window_end",
    metavar="TIME",
    help="End of the evaluated window, ISO 8601 (default: now, UTC, to the minute).",
)
@click.option(
    "--captures",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Read captures and ground truth from a local copy of the capture bucket instead of S3.",
)
@click.option("--dry-run", is_flag=True, help="Print the report; write nothing to S3, publish no metric.")
def evaluate(window_end: str | None, captures: str | None, dry_run: bool) -> None:
    """Evaluate an endpoint's captured traffic of the last window: fairness per sensitive attribute, the
    report in S3 and the metrics in CloudWatch. The ethics monitor image's entry point; configured by
    AIPLANE_ENDPOINT_NAME, AIPLANE_VARIANT_NAME, AIPLANE_CAPTURE_S3_URI, AIPLANE_MONITOR_SPEC,
    AIPLANE_REPORT_S3_URI (optional) and AWS_REGION.

    Exit 0 evaluated (ok, insufficient data or breach: the metrics tell), 1 AWS refused or unreachable,
    2 bad configuration.
    """
    from aiplane.commands import ethics_evaluate as command

    _run(command.run, window_end_text=window_end, captures=captures, dry_run=dry_run)


@ethics.command()
@click.option("--env", "env", required=True, metavar="NAME", help="The environment declaring the endpoint.",
              shell_complete=environment_names)
@click.option("--endpoint", required=True, metavar="NAME", help="The ModelEndpoint whose thresholds apply.")
@click.option(
    "--data", required=True, type=click.Path(dir_okay=False), metavar="FILE", help="Evaluation set (CSV or Parquet)."
)
@click.option("--prediction-column", default="prediction", show_default=True, help="Column of the predictions.")
@click.option("--label-column", default="label", show_default=True, help="Column of the true labels.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, sarif for code scanning, markdown for PRs.",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Where a passing report goes (default: ethics-reports/ in the project).",
)
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The monitor's spec (YAML/JSON) instead of the endpoint's ethicsMonitor.",
)
@click.option("--image", metavar="URI", help="The candidate's image (default: the endpoint's).")
@click.option("--model-data-url", metavar="S3URI", help="The candidate's model artifacts (default: the endpoint's).")
def gate(
    env: str,
    endpoint: str,
    data: str,
    prediction_column: str,
    label_column: str,
    fmt: str,
    report_dir: str | None,
    spec_file: str | None,
    image: str | None,
    model_data_url: str | None,
) -> None:
    """Judge a candidate model's predictions on an evaluation set against the endpoint's fairness thresholds
    before deployment. Fails closed: a point estimate beyond a critical bound fails, and so does a group below
    minGroupSize. A pass writes ethics-reports/<env>/<endpoint>/<sha256 of image and model>.json.

    Exit 0 passes, 1 breach or insufficient data, 2 bad input.
    """
    from aiplane.commands import ethics_gate as command

    _run(
        command.run,
        env=env,
        endpoint=endpoint,
        data=data,
        prediction_column=prediction_column,
        label_column=label_column,
        fmt=fmt,
        report_dir=report_dir,
        spec_file=spec_file,
        image=image,
        model_data_url=model_data_url,
    )


def console() -> None:
    """The `aiplane` console script and `python -m aiplane`: the command line, then a quick exit that skips
    the interpreter's teardown once output is flushed and atexit handlers have run (aiplane.quick_exit)."""
    run_and_leave(main)


if __name__ == "__main__":
    console()

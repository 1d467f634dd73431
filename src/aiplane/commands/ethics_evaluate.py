"""`aiplane ethics evaluate`: one run of the live ethics monitor, the image's entry point. Reads the
endpoint's captured traffic of the last window (and ground truth), judges every sensitive attribute, writes
the report to S3 and publishes the metrics (aiplane.ethics.job says which environment variables configure it).

Exit 0: evaluated and published, whatever the verdict: ok, insufficient data or a breach (a breach is told by
the FairnessBreach metric and its alarm, not by a failed Job that Kubernetes would retry and that would page
nobody); 1: AWS refused or could not be reached (reading captures, writing the report, publishing), which the
Job's backoffLimit retries; 2: bad configuration (a variable missing or wrong, the spec invalid).

Output names attributes, metrics and counts, never a group's value: it ends up in cluster logs.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click

from aiplane import __version__
from aiplane.errors import InputError
from aiplane.ethics import job
from aiplane.ethics.aws import AwsFailure, client
from aiplane.ethics.capture import LocalSource, S3Source, Source
from aiplane.ethics.decision import Verdict
from aiplane.ethics.metrics import NAMESPACE
from aiplane.ethics.monitor import Run, evaluate, report
from aiplane.ethics.report import iso, metric_data, publish, report_key, write_report


def window_end(text: str | None) -> datetime:
    """`--window-end` as aware UTC (a time without offset is UTC); default now, to the minute."""
    if text is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError.single(
            "--window-end", f"{text!r} is not an ISO 8601 time (2025-01-31T14:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _summary(run: Run, verdict: Verdict) -> list[str]:
    r = run.records
    lines = [
        f"records: {r.captured} captured in the window, {r.rows} rows judged, {r.labeled_rows} labelled, "
        f"{sum(r.skipped.values())} skipped ({r.files} files)"
    ]
    lines += [f"  skipped: {count} {reason}" for reason, count in sorted(r.skipped.items())]
    for a in verdict.attributes:
        lines.append(
            f"{a.attribute}: {a.status}{f' ({a.severity})' if a.severity else ''}; smallest group "
            f"{a.smallest_group} records, {a.suppressed_groups} groups below minGroupSize"
        )
        for m in a.metrics:
            if m.value is None:
                lines.append(f"  {m.metric}: {m.status}{f' ({m.reason})' if m.reason else ''}")
                continue
            interval = f" [{m.interval[0]:.3f}, {m.interval[1]:.3f}]" if m.interval else ""
            bounds = ", ".join(f"{s} {b:g}" for s, b in m.bounds)
            severity = f" ({m.severity})" if m.severity else ""
            lines.append(f"  {m.metric}: {m.value:.3f}{interval} — {m.status}{severity}; bounds {bounds}")
    return lines


def run(window_end_text: str | None, captures: str | None, dry_run: bool) -> int:
    config = job.job_config(os.environ)
    spec = config.spec
    where = f"{config.endpoint}/{config.variant}"
    if not spec.enabled:
        click.echo(f"ethics monitor of {where} is disabled (enabled: false): nothing evaluated")
        return 0
    end = window_end(window_end_text)
    if captures is not None and not Path(captures).is_dir():
        raise InputError.single(captures, "--captures must be a folder (a local copy of the capture bucket)")
    try:
        source: Source = (
            LocalSource(Path(captures))
            if captures is not None
            else S3Source(client("s3", config.region), config.capture_bucket)
        )
        result = evaluate(source, config.capture_prefix, config.endpoint, config.variant, spec, end)
        document = report(result, config.endpoint, config.variant, spec, f"aiplane {__version__}")
        data = metric_data(result.verdict, config.endpoint, config.variant, result.records.rows, end,
                           rollback=config.spec.action == "rollback")
        verdict = result.verdict
        click.echo(
            f"ethics monitor {where}, window {iso(result.windows.parity.start)} – {iso(end)}: "
            f"{verdict.status}{f' ({verdict.severity})' if verdict.severity else ''}"
        )
        for line in _summary(result, verdict):
            click.echo(line)
        if dry_run:
            click.echo(json.dumps(document, indent=2, sort_keys=True))
            click.echo(f"dry run: no report written, {len(data)} datapoints not published")
            return 0
        key = report_key(config.report_prefix, config.endpoint, config.variant, end)
        write_report(client("s3", config.region), config.report_bucket, key, document)
        click.echo(f"report: s3://{config.report_bucket}/{key}")
        publish(client("cloudwatch", config.region), data)
        click.echo(f"published {len(data)} datapoints to {NAMESPACE}")
    except AwsFailure as err:
        click.echo(f"ethics monitor {where}: {err}", err=True)
        return 1
    return 0

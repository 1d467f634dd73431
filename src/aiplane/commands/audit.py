"""`aiplane audit`: compare the live AWS account with what Git declares for one environment.

Reads only (boto3, docs/audit-readonly-policy.json). Exit 0 clean, 1 findings, 2 credentials, region
or input errors, each as one line on stderr.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

from aiplane.audit.declared import DeclaredState, from_synthesis
from aiplane.audit.live import AwsAccessError, Clients, access_problem
from aiplane.audit.report import render_json, render_text
from aiplane.audit.run import AccountMismatch, run_audit_within
from aiplane.console import progress
from aiplane.crossplane.render import RenderError
from aiplane.errors import InputError, Problem
from aiplane.project import load_settings
from aiplane.synthesis.pipeline import synthesize

REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def run(env: str, fmt: str, deadline: float | None = None) -> int:
    """`deadline`: seconds for the whole command (default [tool.aiplane] audit-deadline, 120 s)."""
    started = time.monotonic()
    settings = load_settings()
    seconds = settings.audit_deadline if deadline is None else deadline
    if not (0 < seconds < float("inf")):
        raise InputError.single("--deadline", f"must be a positive number of seconds, not {seconds!r}")
    check_endpoint_urls()
    with progress(f"Synthesizing what Git declares for {env}…"):
        synthesis = synthesize(settings, [env])
    try:
        declared = from_synthesis(synthesis, env, settings.group)
    except (RenderError, ValueError) as err:
        raise InputError.single(f"environments/{env}", f"cannot render what Git declares: {err}") from None
    check_region(declared)
    try:
        with progress(f"Reading the live account in {declared.region} (read-only)…"):
            report = run_audit_within(declared, Clients(), synthesis.project.catalog, seconds, started)
    except AccountMismatch as err:
        raise InputError([Problem(declared.source, str(err), field="accountId")]) from None
    except AwsAccessError as err:
        raise InputError.single("AWS", str(err)) from None
    except Exception as err:  # boto3.Session() itself raises for a missing profile
        problem = access_problem(err)
        if problem is None:
            raise
        raise InputError.single("AWS", problem) from None
    print(render_json(report) if fmt == "json" else render_text(report))
    return report.exit_code


def check_endpoint_urls() -> None:
    """AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) must be http(s) URLs with a host: botocore
    would otherwise fail deep inside client creation, or send requests somewhere unexpected."""
    for variable, value in sorted(os.environ.items()):
        if not variable.startswith("AWS_ENDPOINT_URL") or not value:
            continue
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError.single("AWS", f"{variable} is not an http(s) URL: {value[:200]!r}")


def check_region(declared: DeclaredState) -> None:
    """The environment's region is used; an AWS_REGION naming another region is a mistake, not a wish."""
    for variable in REGION_VARIABLES:
        value = os.environ.get(variable)
        if value and value != declared.region:
            raise InputError(
                [
                    Problem(
                        declared.source,
                        f"{variable} is {value} but environment "
                        f"{declared.environment} is in {declared.region}; unset it or set it "
                        f"to {declared.region}",
                        field="region",
                    )
                ]
            )

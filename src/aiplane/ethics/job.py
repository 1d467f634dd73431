"""The contract between the composed CronJob and the evaluator it runs: the image's entry point, the
environment variables the job sets, and the configuration the evaluator reads from them.

The container runs `aiplane ethics evaluate` (the image's ENTRYPOINT) with no arguments; every setting comes
from the environment (the ModelEndpoint Composition fills a ConfigMap the container takes with `envFrom`):

| variable | required | what |
|---|---|---|
| `AIPLANE_ENDPOINT_NAME` | yes | the SageMaker endpoint name (`<environment>-<name>`): capture path and `Endpoint` dimension |
| `AIPLANE_VARIANT_NAME` | yes | the production variant (`primary`): capture path and `Variant` dimension |
| `AIPLANE_CAPTURE_S3_URI` | yes | `s3://<bucket>/<prefix>`: the endpoint's DataCaptureConfig.DestinationS3Uri |
| `AIPLANE_MONITOR_SPEC` | yes | the ModelEndpoint's `spec.ethicsMonitor` as JSON (aiplane.ethics.spec.EthicsMonitorSpec) |
| `AIPLANE_REPORT_S3_URI` | no | where reports go, default `s3://<capture bucket>/reports` |
| `AWS_REGION` | yes (or `AWS_DEFAULT_REGION`) | the region of the bucket and of CloudWatch |

boto3 reads the rest itself: credentials from EKS Pod Identity (or IRSA, or the usual chain), and
`AWS_ENDPOINT_URL` when set. The root filesystem may be read-only: the evaluator writes no file at all (the
image keeps Python from writing bytecode), so the `/tmp` volume the CronJob mounts is only a safety margin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from aiplane.errors import InputError, Problem
from aiplane.ethics.spec import EthicsMonitorSpec

ENTRYPOINT = ("aiplane", "ethics", "evaluate")
"""The image's ENTRYPOINT; the CronJob's container needs no `args` (extra flags would go there)."""
TMP_VOLUME_MOUNT = "/tmp"

ENDPOINT_NAME = "AIPLANE_ENDPOINT_NAME"
VARIANT_NAME = "AIPLANE_VARIANT_NAME"
CAPTURE_S3_URI = "AIPLANE_CAPTURE_S3_URI"
MONITOR_SPEC = "AIPLANE_MONITOR_SPEC"
REPORT_S3_URI = "AIPLANE_REPORT_S3_URI"
REGION = "AWS_REGION"
DEFAULT_REGION = "AWS_DEFAULT_REGION"

REQUIRED = (ENDPOINT_NAME, VARIANT_NAME, CAPTURE_S3_URI, MONITOR_SPEC)
DEFAULT_REPORT_PREFIX = "reports"
# SageMaker endpoint and variant names (CreateEndpoint EndpointName, ProductionVariant VariantName pattern).
_SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")


def parse_s3_uri(uri: str, what: str) -> tuple[str, str]:
    """(bucket, key prefix without surrounding slashes) of `s3://bucket[/prefix]`."""
    match = _S3_URI.match(uri)
    if match is None:
        raise InputError.single(what, f"{uri!r} is not an S3 URI (s3://<bucket>[/<prefix>])")
    return match.group(1), (match.group(2) or "").strip("/")


@dataclass(frozen=True)
class JobConfig:
    """What one run evaluates and where it reads and writes."""

    endpoint: str
    variant: str
    capture_bucket: str
    capture_prefix: str
    report_bucket: str
    report_prefix: str
    region: str
    spec: EthicsMonitorSpec


def _spec(text: str) -> tuple[EthicsMonitorSpec | None, list[Problem]]:
    try:
        return EthicsMonitorSpec.model_validate_json(text, strict=True), []
    except ValidationError as err:
        problems = []
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"])
            message = str(e["msg"]).removeprefix("Value error, ")
            problems.append(Problem(MONITOR_SPEC, message, field=where or None))
        return None, problems


def job_config(environ: Mapping[str, str]) -> JobConfig:
    """The run's configuration from the environment; InputError names every missing or wrong variable."""
    problems = [Problem(name, "not set") for name in REQUIRED if not environ.get(name)]
    region = environ.get(REGION) or environ.get(DEFAULT_REGION) or ""
    if not region:
        problems.append(Problem(REGION, f"not set (nor {DEFAULT_REGION})"))
    for name in (ENDPOINT_NAME, VARIANT_NAME):
        value = environ.get(name)
        if value and not _SAGEMAKER_NAME.match(value):
            problems.append(
                Problem(name, f"{value!r} is not a SageMaker name (letters, digits and '-', ≤ 63)")
            )
    spec, spec_problems = _spec(environ[MONITOR_SPEC]) if environ.get(MONITOR_SPEC) else (None, [])
    problems += spec_problems
    buckets: dict[str, tuple[str, str]] = {}
    for name in (CAPTURE_S3_URI, REPORT_S3_URI):
        if environ.get(name):
            try:
                buckets[name] = parse_s3_uri(environ[name], name)
            except InputError as err:
                problems += err.problems
    if problems:
        raise InputError(problems)
    assert spec is not None
    capture_bucket, capture_prefix = buckets[CAPTURE_S3_URI]
    report_bucket, report_prefix = buckets.get(REPORT_S3_URI, (capture_bucket, DEFAULT_REPORT_PREFIX))
    return JobConfig(
        endpoint=environ[ENDPOINT_NAME],
        variant=environ[VARIANT_NAME],
        capture_bucket=capture_bucket,
        capture_prefix=capture_prefix,
        report_bucket=report_bucket,
        report_prefix=report_prefix,
        region=region,
        spec=spec,
    )

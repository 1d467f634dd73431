"""String formats whose rules a regular expression in the XRD cannot carry whole: S3 bucket names,
Kubernetes label keys and values, CronJob schedules and container image references. Each is a pydantic
type (`Annotated[str, AfterValidator(...)]`) for spec models in xrds/, so a wrong value is one message at
synth/check time located at its line in the environment file; the `problem` functions say what is
wrong (None when nothing is)."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from aiplane.function.cron import cron_max_gap_minutes as cron_max_gap_minutes  # for xrds/ (public)
from aiplane.function.cron import cron_problem

# S3 general purpose bucket naming rules, as AWS documents them: Amazon S3 User Guide, "General purpose
# bucket naming rules" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """What breaks the S3 general purpose bucket naming rules, or None."""
    if not 3 <= len(name) <= 63:
        return f"S3 bucket names are 3 to 63 characters long, {name!r} has {len(name)}"
    if not _BUCKET_CHARS.fullmatch(name):
        return f"S3 bucket name {name!r} may only hold lowercase letters, digits, dots and hyphens"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return f"S3 bucket name {name!r} must begin and end with a letter or digit"
    for pair in ("..", ".-", "-."):
        if pair in name:
            return f"S3 bucket name {name!r} must not contain {pair!r}"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return f"S3 bucket name {name!r} must not be formatted as an IP address"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return f"S3 bucket name {name!r} must not be formatted as an IP address"
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"S3 bucket name {name!r} must not start with the reserved prefix {prefix!r}"
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"S3 bucket name {name!r} must not end with the reserved suffix {suffix!r}"
    return None


# Kubernetes label syntax (k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue;
# "Labels and Selectors", Syntax and character set): an optional DNS-subdomain prefix (≤ 253) and '/',
# then a name of ≤ 63 characters; a value is empty or a name.
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def label_key_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return f"label key {key!r}: the prefix before '/' is empty"
        if len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix):
            return (
                f"label key {key!r}: prefix {prefix!r} must be a DNS subdomain (lowercase letters, digits, "
                "'-' and '.', at most 253 characters)"
            )
    if not name:
        return f"label key {key!r}: the name is empty"
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            f"label key {key!r}: name {name!r} must be at most 63 characters, alphanumeric at both ends, "
            "with '-', '_' and '.' between"
        )
    return None


def label_value_problem(value: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        return (
            f"label value {value!r} must be empty, or at most 63 characters, alphanumeric at both ends, "
            "with '-', '_' and '.' between"
        )
    return None


# The distribution/reference grammar (github.com/distribution/reference, reference.go) that Docker,
# containerd and Kubernetes use to parse image references: [domain/]path[:tag][@digest].
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
NAME_TOTAL_LENGTH_MAX = 255


def image_reference_problem(reference: str) -> str | None:
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        return (
            f"image {reference!r} is not an image reference ([registry[:port]/]path[:tag][@digest], "
            "path in lowercase)"
        )
    domain = match["domain"]
    # Docker reads a first component without '.', ':' or 'localhost' as a path, not a registry; a path
    # must be lowercase.
    registry_like = domain is not None and ("." in domain or ":" in domain or domain == "localhost")
    if domain is not None and not registry_like and domain != domain.lower():
        return f"image {reference!r}: repository {domain!r} must be lowercase"
    if len(match["name"]) > NAME_TOTAL_LENGTH_MAX:
        return f"image {reference!r}: repository name longer than {NAME_TOTAL_LENGTH_MAX} characters"
    return None


def _check(problem: Callable[[str], str | None]) -> AfterValidator:
    # The checks are pure and an environment repeats the same values (owners, cost centers, images) in
    # thousands of items: each distinct value is checked once per process.
    known = functools.lru_cache(maxsize=4096)(problem)

    def validate(value: str) -> str:
        found = known(value)
        if found is not None:
            raise ValueError(found)
        return value

    return AfterValidator(validate)


S3BucketName = Annotated[str, _check(bucket_name_problem)]
LabelKey = Annotated[str, _check(label_key_problem)]
LabelValue = Annotated[str, _check(label_value_problem)]
CronSchedule = Annotated[str, _check(cron_problem)]
ImageReference = Annotated[str, _check(image_reference_problem)]

# An Amazon ECR image URI: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]` (Amazon ECR
# User Guide, "Pushing an image"); group 1 is the repository. SageMaker hosting pulls from ECR, and the
# endpoint execution role may pull only from this repository (compositions/modelendpoint_sagemaker.py).
ECR_IMAGE_REPOSITORY = r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/([^:@]+)"

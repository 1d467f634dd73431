"""The evaluator's AWS access: boto3 clients with bounded retries and timeouts (a scheduled job must end),
and one exception for everything AWS refuses or cannot be reached for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Standard retry mode with a few attempts and short timeouts: a CronJob run that cannot reach AWS fails
# within a minute or two and the Job's backoffLimit retries it, rather than hanging until the next run.
_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=10, read_timeout=30)


class AwsFailure(Exception):
    """AWS refused a call (permissions, a missing bucket) or could not be reached."""

    def __init__(self, doing: str, message: str) -> None:
        super().__init__(f"{doing}: {message}")


@contextmanager
def calling(doing: str) -> Iterator[None]:
    """Turn boto3's errors into one AwsFailure saying what was being done."""
    try:
        yield
    except ClientError as err:
        error = err.response.get("Error", {})
        raise AwsFailure(doing, f"{error.get('Code', 'error')}: {error.get('Message', err)}") from None
    except BotoCoreError as err:
        raise AwsFailure(doing, str(err)) from None


def client(service: str, region: str) -> Any:
    """A boto3 client; AWS_ENDPOINT_URL and the usual credential chain are honoured by boto3 itself."""
    with calling(f"creating the {service} client"):
        return boto3.client(service, region_name=region, config=_CONFIG)
